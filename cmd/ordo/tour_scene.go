package main

import "io"

// tourScene is one stop of `ordo tour`. Each capability registers its own
// scenes from an init function in its own file, so `ordo tour` grows with
// ordo without one file that everybody edits.
type tourScene struct {
	// Order places the scene: the chapter's section number × 100 plus a
	// position within the section (e.g. 301 for the first Lamport scene).
	Order int
	// Section is the heading printed above the scene, naming the chapter's
	// section: "3. Lamport clock".
	Section string
	// Run prints the scene to w. An error means the scene's own check
	// failed (the tour then exits non-zero).
	Run func(w io.Writer) error
}

var tourScenes []tourScene

func addTourScene(s tourScene) { tourScenes = append(tourScenes, s) }
