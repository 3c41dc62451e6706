// Package naive is the chapter's figure of section 5, "Byzantine failure"
// (비잔틴 장애): node A tells B "the value is 5" and C "the value is 7", so
// B and C cannot agree. It is agreement without any defence against a
// liar: every node broadcasts the value it proposes (option values, one per
// node), and decides, once it has heard from every peer or at the timeout,
// the value most of what it heard says (its own included; a tie goes to
// the smallest value). It notes the decision, "decide" with "value", which
// the byzantine-agreement checker reads (package agreement).
//
// With the default values 5, 5, 7 and no liar, nodes 2 and 3 both hear
// {5, 5, 7} and decide 5. Made to equivocate (a scenario's
// `byzantine: [{node: 1, behaviour: equivocate}]`), node 1's Proposal tells
// even-numbered recipients the truth and odd-numbered ones the value plus 2
// (Proposal.Equivocate): node 2 hears {5, 5, 7} and decides 5, node 3
// hears {7, 7, 5} and decides 7. Nothing in the protocol can tell: the
// liar's messages are authentically its own. Tolerating f liars needs
// 3f+1 nodes and a BFT protocol (PBFT), which this package is the
// counterexample for.
//
//	ordo sim byzantine-section5 --diagram
package naive
