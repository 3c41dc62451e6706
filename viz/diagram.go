package viz

import "ordo/diagram"

// FromDiagram draws a hand-written diagram in the chapter's style: event
// names on the line, the chosen stamps under them ("lamport", "vector",
// "both", "none"), messages as vertical arrows where they fit.
func FromDiagram(d *diagram.Diagram, stamps string) (*Picture, error) {
	o, err := Options{Stamps: stamps}.norm()
	if err != nil {
		return nil, err
	}
	p := &Picture{StampNames: stampNames(o.Stamps)}
	for _, pr := range d.Processes {
		p.Lanes = append(p.Lanes, pr.Name)
	}
	at := make([]int, len(d.Events))
	for _, i := range d.Order {
		e := &d.Events[i]
		at[i] = len(p.Marks)
		p.Marks = append(p.Marks, Mark{Lane: e.Proc, Glyph: '●', Label: e.Name, Stamps: stampsOf(o.Stamps, e.Lamport, e.Vector), Event: -1})
	}
	for _, m := range d.Messages {
		p.Msgs = append(p.Msgs, Msg{From: at[m.From], To: at[m.To],
			FromTag: "→" + d.Events[m.To].Name, ToTag: "←" + d.Events[m.From].Name})
	}
	return p, p.Check()
}
