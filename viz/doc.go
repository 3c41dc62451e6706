// Package viz draws space-time diagrams, the chapter's way of showing time
// and order (section 2 "Happens-Before 관계", section 3 "논리 시계"): one
// horizontal line per process, events as dots on it, messages as arrows
// between lines, Lamport or vector stamps written under the events. It
// renders for a terminal (ASCII), as a standalone SVG file, and as a ShiViz
// log for the ShiViz visualiser.
package viz
