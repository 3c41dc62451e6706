// Package tour is `ordo tour`: the chapter walked section by section
// (sections 1-5: the eight fallacies, time and order, logical clocks,
// leader election, partitions and partial failure), each idea a scene
// that runs in the deterministic simulator (or on the chapter's figures),
// prints what happened and checks that it happened as the chapter says.
// The scenes are data (Scenes), so the CLI and a web page can list, run
// and show them alike.
//
//	scenes, _ := tour.Select(4)       // the section 4 scenes
//	res := tour.Run(os.Stdout, scenes) // headings, then each scene's text
//	for _, r := range res { if r.Err != nil { ... } }
//
//	text, err := tour.Scenes()[0].Text() // one scene's text, for a page
package tour
