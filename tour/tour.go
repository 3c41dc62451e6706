package tour

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Scene is one stop of the tour.
type Scene struct {
	// Order places the scene: the chapter's section number × 100 plus a
	// position within the section (e.g. 301 for the first Lamport scene).
	Order int
	// Section is the heading printed above the scene, naming the
	// chapter's section: "3. Logical clocks".
	Section string
	// Play prints the scene to w. An error means the scene's own check
	// failed: what it ran did not behave as the chapter says.
	Play func(w io.Writer) error
}

// Text plays the scene and returns what it printed.
func (s Scene) Text() (string, error) {
	var b bytes.Buffer
	err := s.Play(&b)
	return b.String(), err
}

// Intro is printed before the first scene.
const Intro = `ordo tour: the distributed-systems chapter, run section by section.

Every scene below is a real run of a protocol in ordo's deterministic
simulator (same seed, same run), drawn as a space-time diagram — one line per
node, messages between them, Lamport timestamps (C) under the events — and
judged by checkers that read the trace. Rerun any scene with the command
shown under it; add --diagram to draw the whole run, --trace FILE to keep it.
`

// scenes is the tour, in order.
var scenes = []Scene{
	{101, "1. The eight fallacies of distributed computing", sceneLossy},
	{102, "1. The eight fallacies of distributed computing", sceneFarAway},
	{103, "1. The eight fallacies of distributed computing", sceneTampered},
	{201, "2. Time and order", sceneHappensBefore},
	{202, "2. Time and order", sceneLWWSkew},
	{301, "3. Logical clocks", sceneLamportFigure},
	{302, "3. Logical clocks", sceneVectorFigure},
	{303, "3. Logical clocks", sceneExercises},
	{304, "3. Logical clocks", sceneDynamo},
	{401, "4. Leader election: Bully", sceneBully},
	{402, "4. Leader election: Ring", sceneRing},
	{403, "4. Leader election on a coordination service: leases and fencing tokens", sceneLease},
	{501, "5. Challenges: network partitions and partial failure", scenePartition},
	{502, "5. Network partition: split brain vs quorum", sceneSplitBrain},
	{503, "5. Leader crash and automatic recovery (exercise 3)", sceneFailover},
	{504, "5. Partial connectivity: a leader half the cluster cannot hear", sceneOutage},
	{505, "5. Partial failure: why did my request time out?", sceneTimeoutAmbiguity},
	{601, "6. Exercise 3: a 5-node database through a leader crash and a 2|3 split", sceneDatabase},
}

// Scenes returns every scene, in order (a copy).
func Scenes() []Scene { return slices.Clone(scenes) }

// Select returns the scenes of one section of the chapter (0: every
// scene); a section without scenes is an error naming those with some.
func Select(section int) ([]Scene, error) {
	if section < 0 {
		return nil, fmt.Errorf("--section %d: sections are numbered from 1 (0 runs every section)", section)
	}
	all := Scenes()
	if section == 0 {
		return all, nil
	}
	var keep []Scene
	have := map[int]bool{}
	for _, s := range all {
		have[s.Order/100] = true
		if s.Order/100 == section {
			keep = append(keep, s)
		}
	}
	if len(keep) == 0 {
		var secs []string
		for n := 0; n <= 9; n++ {
			if have[n] {
				secs = append(secs, fmt.Sprint(n))
			}
		}
		return nil, fmt.Errorf("the tour has no scenes for section %d (sections with scenes: %s)", section, strings.Join(secs, ", "))
	}
	return keep, nil
}

// Result is how one scene went: Err is its failed check (nil: as the
// chapter says).
type Result struct {
	Scene Scene
	Err   error
}

// Run plays scenes in order to w, each section's heading above its first
// scene and a line naming the failure under a failed scene, and returns
// every scene's result.
func Run(w io.Writer, scenes []Scene) []Result {
	heading := ""
	out := make([]Result, 0, len(scenes))
	for _, s := range scenes {
		if s.Section != heading {
			heading = s.Section
			fmt.Fprintf(w, "\n%s\n%s\n", heading, strings.Repeat("═", len([]rune(heading))))
		}
		fmt.Fprintln(w)
		err := s.Play(w)
		if err != nil {
			fmt.Fprintf(w, "✗ SCENE FAILED: %v\n", err)
		}
		out = append(out, Result{Scene: s, Err: err})
	}
	return out
}
