package pbft_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"ordo"
	"ordo/ordotest"
	"ordo/pbft"
)

// certify gives claim c the certificate its view's primary and the q-1
// lowest-numbered other servers of roster would sign (ordotest.Keys).
func certify(roster *ordo.Roster, q int, c pbft.Claim) pbft.Claim {
	keys := ordotest.Keys(roster)
	d := pbft.BatchDigest(c.Reqs)
	primary := pbft.Primary(roster.Servers, c.View)
	c.Cert = pbft.Certificate{PrePrepare: keys.Sign(primary, pbft.PrePrepareStatement(c.View, c.Seq, d))}
	for _, id := range roster.Servers {
		if id != primary && len(c.Cert.Prepares) < q-1 {
			c.Cert.Prepares = append(c.Cert.Prepares, pbft.Endorsement{From: id, Sig: keys.Sign(id, pbft.PrepareStatement(c.View, c.Seq, d))})
		}
	}
	return c
}

// wantClaim checks that vc, sent by a replica of roster with quorum q,
// claims exactly want (seq, view, batch) and proves it.
func wantClaim(t *testing.T, roster *ordo.Roster, q int, vc pbft.ViewChange, want pbft.Claim) {
	t.Helper()
	if len(vc.Prepared) != 1 {
		t.Fatalf("view-change claims %d batches, want 1: %+v", len(vc.Prepared), vc)
	}
	got := vc.Prepared[0]
	got.Cert = pbft.Certificate{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("claim %+v, want %+v", got, want)
	}
	if err := pbft.CheckViewChange(ordotest.Keys(roster).For(1), roster.Servers, q, vc); err != nil {
		t.Fatalf("a correct replica's view-change does not verify: %v", err)
	}
}

// §4.4 with certificates, one step at replica 2, the primary of view 1.
// Batch A committed at sequence number 1 in view 0 (replica 2 prepared
// it). A lying replica 4's view-change claims, for sequence number 1, a
// forged batch F whose digest sorts before A's — prepared in view 0, so a
// tie the smallest digest would win — carrying the real certificate of A
// (signatures moved, the liar holds no other key). Believed, it would
// make the new view re-propose F at 1, where A committed: an agreement
// violation. Refused (bad-certificate), it counts toward no view; the new
// view waits for an honest third view-change and re-proposes A. The
// siblings: a claim in the view being changed to, a stable checkpoint with
// another checkpoint's proof, a certificate one prepare short, and a
// pre-prepare signed by a backup.
func TestPBFT4_4_ViewChangeCertificates(t *testing.T) {
	roster := ordo.NewRoster(4, 1, 0)
	const q = 3
	a := pbft.Request{Timestamp: 1, Client: 5, Op: "A"}
	d := pbft.BatchDigest([]pbft.Request{a})
	// A forged batch whose digest sorts before A's.
	var forged []pbft.Request
	for i := 0; ; i++ {
		forged = []pbft.Request{{Timestamp: 1, Client: 5, Op: "F" + strings.Repeat("x", i)}}
		if pbft.BatchDigest(forged) < d {
			break
		}
	}
	honest := certify(roster, q, pbft.Claim{Seq: 1, View: 0, Reqs: []pbft.Request{a}})
	lie := honest
	lie.Reqs = forged

	keys := ordotest.Keys(roster)
	stableState := "0123456789abcdef"
	stableProof := func(seq int64) []pbft.Endorsement {
		var es []pbft.Endorsement
		for _, id := range []ordo.NodeID{1, 2, 3} {
			es = append(es, pbft.Endorsement{From: id, Sig: keys.Sign(id, pbft.CheckpointStatement(seq, stableState))})
		}
		return es
	}
	short := honest
	short.Cert.Prepares = short.Cert.Prepares[:1]
	byBackup := honest
	byBackup.Cert.PrePrepare = keys.Sign(3, pbft.PrePrepareStatement(0, 1, d))
	for _, tc := range []struct {
		name string
		vc   pbft.ViewChange
		why  string
	}{
		{"forged batch, moved certificate", pbft.ViewChange{View: 1, Prepared: []pbft.Claim{lie}}, "no pre-prepare"},
		{"prepared in the new view", pbft.ViewChange{View: 1, Prepared: []pbft.Claim{certify(roster, q, pbft.Claim{Seq: 1, View: 1, Reqs: forged})}}, "not before view 1"},
		{"stable checkpoint with another's proof", pbft.ViewChange{View: 1, Stable: 16, StableState: stableState, StableProof: stableProof(8)}, "stable checkpoint 16"},
		{"one prepare short", pbft.ViewChange{View: 1, Prepared: []pbft.Claim{short}}, "1 valid signed prepares"},
		{"pre-prepare signed by a backup", pbft.ViewChange{View: 1, Prepared: []pbft.Claim{byBackup}}, "no pre-prepare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := pbft.CheckViewChange(keys.For(2), roster.Servers, q, tc.vc); err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("CheckViewChange: %v, want an error naming %q", err, tc.why)
			}
			env := ordotest.ForProtocol(pbft.Protocol, 2, roster, 1)
			n := env.NewNode(t, pbft.Protocol, nil)
			env.Start(n)
			env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{a}})
			env.Receive(n, 5, a)
			env.Receive(n, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
			env.WantSent(t, "commit→n1", "commit→n3", "commit→n4") // prepared
			env.Receive(n, 3, pbft.ViewChange{View: 1, Prepared: []pbft.Claim{honest}})
			env.Receive(n, 4, pbft.ViewChange{View: 1}) // f+1: replica 2 joins view 1
			vc, ok := env.SentTo(3)[0].(pbft.ViewChange)
			if !ok {
				t.Fatalf("did not join view 1: %v", env.SentSummary())
			}
			wantClaim(t, roster, q, vc, pbft.Claim{Seq: 1, View: 0, Reqs: []pbft.Request{a}})
			// Replica 4 was honest so far; its second view-change for view 1
			// is a duplicate. A fresh replica 2 hears the lie first instead.
			env = ordotest.ForProtocol(pbft.Protocol, 2, roster, 1)
			n = env.NewNode(t, pbft.Protocol, nil)
			env.Start(n)
			env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{a}})
			env.Receive(n, 5, a)
			env.Receive(n, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
			env.Receive(n, 3, pbft.ViewChange{View: 1, Prepared: []pbft.Claim{honest}})
			env.Receive(n, 4, tc.vc)
			if len(env.Sent) != 0 {
				t.Fatalf("a lying view-change counted toward view 1: %v", env.SentSummary())
			}
			noted(t, env, "bad-certificate")
			env.Receive(n, 1, pbft.ViewChange{View: 1}) // f+1 honest: it joins, and has 2f+1 with its own
			var nv pbft.NewView
			for _, m := range env.SentTo(4) {
				if m, ok := m.(pbft.NewView); ok {
					nv = m
				}
			}
			if !slices.Equal(nv.From, []ordo.NodeID{1, 2, 3}) || !slices.Equal(nv.Digests, []string{d}) {
				t.Fatalf("new-view %+v, want A's digest at 1 from the view-changes of 1, 2 and 3", env.SentTo(4))
			}
		})
	}
}

// A prepare, pre-prepare or checkpoint whose signature is not its
// sender's is refused (bad-signature) and counts for nothing: a prepare
// signed by another replica (a forgery over an authenticated link), a
// pre-prepare with no signature, a checkpoint signed over another state.
func TestPBFTBadSignaturesRefused(t *testing.T) {
	roster := ordo.NewRoster(4, 1, 0)
	keys := ordotest.Keys(roster)
	a := pbft.Request{Timestamp: 1, Client: 5, Op: "A"}
	d := pbft.BatchDigest([]pbft.Request{a})
	env := ordotest.ForProtocol(pbft.Protocol, 3, roster, 1)
	n := env.NewNode(t, pbft.Protocol, nil)
	env.Start(n)
	env.Receive(n, 5, a)
	env.ReceiveAsIs(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{a}})
	if len(env.Sent) != 0 {
		t.Fatalf("prepared an unsigned pre-prepare: %v", env.SentSummary())
	}
	noted(t, env, "bad-signature")
	env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{a}})
	env.WantSent(t, "prepare→n1", "prepare→n2", "prepare→n4")
	env.ReceiveAsIs(n, 2, pbft.Prepare{View: 0, Seq: 1, Digest: d, Sig: keys.Sign(4, pbft.PrepareStatement(0, 1, d))})
	if len(env.Sent) != 0 {
		t.Fatalf("counted a prepare signed by another replica: %v", env.SentSummary())
	}
	env.Receive(n, 2, pbft.Prepare{View: 0, Seq: 1, Digest: d})
	env.WantSent(t, "commit→n1", "commit→n2", "commit→n4")
	env.ReceiveAsIs(n, 2, pbft.Checkpoint{Seq: 8, State: "aa", Sig: keys.Sign(2, pbft.CheckpointStatement(8, "bb"))})
	if st := n.(ordo.StateReporter).State().(pbft.State); st.RefusedBy["bad-signature"] != 3 {
		t.Fatalf("refused %v, want 3 bad-signature", st.RefusedBy)
	}
}

// The deliberately broken variant (unsafe_trust_view_changes): the step
// of TestPBFT4_4_ViewChangeCertificates at replica 2, the new primary,
// with replicas that believe view-changes. Replica 4's lie claims, at
// sequence number 1 where A prepared (and committed at 1 and 3), a batch
// of a genuine request B whose digest sorts before A's, prepared in view
// 0, with A's certificate moved onto it: believed, it wins the tie, and
// the new view orders B at 1, where A committed — the agreement
// violation the certificates prevent. Checked, the same lie counts
// toward no view (TestPBFT4_4_ViewChangeCertificates).
func TestPBFTTrustingViewChangesOrdersTheLie(t *testing.T) {
	roster := ordo.NewRoster(4, 2, 0)
	a := pbft.Request{Timestamp: 1, Client: 5, Op: "A"}
	d := pbft.BatchDigest([]pbft.Request{a})
	var b []pbft.Request // client 6's genuine request, its digest below A's
	for i := 0; ; i++ {
		b = []pbft.Request{{Timestamp: 1, Client: 6, Op: "B" + strings.Repeat("x", i)}}
		if pbft.BatchDigest(b) < d {
			break
		}
	}
	honest := certify(roster, 3, pbft.Claim{Seq: 1, View: 0, Reqs: []pbft.Request{a}})
	lie := honest
	lie.Reqs = b
	for _, trust := range []bool{false, true} {
		env := ordotest.ForProtocol(pbft.Protocol, 2, roster, 1)
		n := env.NewNode(t, pbft.Protocol, map[string]string{"unsafe_trust_view_changes": fmt.Sprint(trust)})
		env.Start(n)
		env.Receive(n, 1, pbft.PrePrepare{View: 0, Seq: 1, Digest: d, Reqs: []pbft.Request{a}})
		env.Receive(n, 5, a)
		env.Receive(n, 6, b[0])
		env.Receive(n, 3, pbft.Prepare{View: 0, Seq: 1, Digest: d})
		env.Receive(n, 3, pbft.ViewChange{View: 1, Prepared: []pbft.Claim{honest}})
		env.Receive(n, 4, pbft.ViewChange{View: 1, Prepared: []pbft.Claim{lie}})
		var nv *pbft.NewView
		for _, m := range env.SentTo(3) {
			if m, ok := m.(pbft.NewView); ok {
				nv = &m
			}
		}
		switch {
		case !trust && nv != nil:
			t.Fatalf("certificates checked: a new-view on the liar's view-change: %+v", *nv)
		case trust && (nv == nil || !slices.Equal(nv.Digests, []string{pbft.BatchDigest(b)})):
			t.Fatalf("believing view-changes: new-view %+v, want B's digest at 1 (the lie ordered)", nv)
		}
	}
}
