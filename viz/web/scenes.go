package web

// Scene is a moment of a built-in scenario worth a picture: the page at
// /sim?scenario=Scenario&pos=end, zoomed to Zoom pixels per event (0: the
// page's own fit), scrolled so that the first event of kind Show sits near
// the left edge (what follows it in view), and Click
// (a CSS selector) clicked, when set, before the shot.
type Scene struct {
	File     string // the PNG's name
	Title    string // what it shows, for the README
	Scenario string
	Zoom     float64
	Show     string
	Click    string
}

// Scenes are the chapter's scenes `ordo web shots` photographs.
var Scenes = []Scene{
	{File: "bully-figure.png", Title: "The Bully election of section 4: node 5 crashes, node 2 notices and bullies its way up, node 4 wins", Scenario: "bully-section4",
		Zoom: 26, Show: "crash"},
	{File: "split-brain.png", Title: "The 2|3 split brain of section 5: two leaders until the heal; the single-leader finding clicked shows the events that prove it", Scenario: "partition-bully",
		Click: `[data-check="single-leader"] .v`},
	{File: "byzantine.png", Title: "The Byzantine figure of section 5: node 1 tells node 2 \"5\" and node 3 \"7\" (the red diamond is the lie); the failing byzantine-agreement finding clicked rings the two decisions", Scenario: "byzantine-section5",
		Click: `[data-check="byzantine-agreement"] .v`},
}
