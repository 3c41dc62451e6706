// Package viz draws space-time diagrams, the chapter's way of showing time
// and order (section 2 "Happens-Before 관계", section 3 "논리 시계"): one
// horizontal line per process, events as dots on it, messages as arrows
// between lines, Lamport or vector stamps written under the events. It
// renders for a terminal (ASCII), as a standalone SVG file, and as a ShiViz
// log for the ShiViz visualiser; ImportShiViz reads GoVector and ShiViz
// logs back into a trace, inferring messages from their vector clocks.
//
//	t, rep, err := viz.ImportShiViz(f, viz.ImportOptions{}) // a GoVector log
//	if err != nil { ... } // names the line that breaks a rule
//	fmt.Println(rep.Hosts, rep.Messages)
//	viz.ASCII(os.Stdout, t, viz.Options{Stamps: "vector"})
package viz
