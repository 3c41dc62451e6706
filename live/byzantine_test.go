package live

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// POST /byzantine: a bad setting is refused with the reason (a part its
// behaviour ignores too); garbage
// from node 1 is refused by the others' decoders and counted in their
// status; a switch to silent is taken (what silence does is asserted by
// cmd/ordo's TestPBFTLiveByzantine, where replicas must send); honest
// ends it.
func TestByzantineAdmin(t *testing.T) {
	c, tok := startGuarded(t, 3)
	post := func(id int, body string) (int, string) {
		return adminReq{method: "POST", path: "/byzantine", body: body, ctype: "application/json", token: tok}.do(t, c.rt[id-1])
	}
	for body, want := range map[string]string{
		`{"behaviour":"lie"}`:                 "unknown behaviour",
		`{"behaviour":"silent","rate":2}`:     "rate",
		`{"behaviour":"forge","as":1}`:        "as 1",
		`{"behaviour":"replay","after":"2h"}`: "after",
		`{"behaviour":"silent","extra":true}`: "unknown field",
		`{"behaviour":"silent"} {}`:           "",
		// A part the behaviour ignores is refused, not ignored.
		`{"behaviour":"silent","after":"1s"}`: "after 1s with silent: only replay",
		`{"behaviour":"honest","rate":0.5}`:   "rate 0.5 with honest",
		// No behaviour is refused, not taken as honest.
		`{"rate":0.5}`:                   `missing field "behaviour"`,
		`{}`:                             `missing field "behaviour"`,
		`null`:                           `missing field "behaviour"`,
		`{"behaviour":"garbage","as":2}`: "as 2 with garbage: only forge",
	} {
		if code, msg := post(1, body); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %q, want 400 with %q", body, code, msg, want)
		}
	}
	if code, msg := post(1, `{"behaviour":"garbage"}`); code != 200 {
		t.Fatalf("garbage: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, func() bool {
		for r, n := range c.rt[1].Status().Rejected {
			if strings.HasPrefix(r, "rejected: ") && n > 0 {
				return true
			}
		}
		return false
	}, func() string { return "node 2 never rejected node 1's garbage" })
	if code, msg := post(1, `{"behaviour":"silent"}`); code != 200 {
		t.Fatalf("silent: %d %s", code, msg)
	}
	// A body without a behaviour leaves a liar lying (it made it honest).
	for _, body := range []string{`{}`, `null`} {
		if code, msg := post(1, body); code != 400 || !strings.Contains(msg, "honest to stop lying") {
			t.Errorf("%s to a liar: %d %q, want 400 naming honest", body, code, msg)
		}
	}
	if b := c.rt[0].Status().Byzantine; b == nil || b.Behaviour != "silent" {
		t.Errorf("after bodies without a behaviour: %+v, want still silent", b)
	}
	// The garbage told before is counted as garbage, not as silence.
	if f := byzantineFault(c.rt[0].Status().Byzantine); !strings.HasPrefix(f, "byzantine:silent(lies since boot: ") || !strings.Contains(f, "garbage ") {
		t.Errorf("FAULTS of a node silent after garbage: %q; want its garbage lies named", f)
	}
	var st Status
	_, body := post(1, `{"behaviour":"honest"}`)
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Byzantine == nil || st.Byzantine.Behaviour != Honest || st.Byzantine.Lies == 0 {
		t.Fatalf("honest again: %s (%v), want behaviour honest and the lies counted", body, err)
	}
	if f := byzantineFault(st.Byzantine); !strings.HasPrefix(f, "honest-again(lies since boot: ") || !strings.Contains(f, "garbage ") {
		t.Errorf("FAULTS of a node honest again: %q; want its lies still shown", f)
	}
	sum := uint64(0)
	for _, n := range st.Byzantine.LiesBy {
		sum += n
	}
	if st.Byzantine.LiesBy["garbage"] == 0 || sum != st.Byzantine.Lies {
		t.Errorf("lies by behaviour %v, %d in all; want garbage's counted and the sum the whole", st.Byzantine.LiesBy, st.Byzantine.Lies)
	}
}

// A refusal says what is wrong with the setting: "(or honest)" follows
// an unknown behaviour's list of the valid ones, never a bad rate (ordo
// cluster byzantine 1 silent --rate 1.5 said "rate 1.5 out of range
// [0, 1] (or honest)").
func TestByzantineSettingCheckSaysWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		s          ByzantineSetting
		want, miss string
	}{
		{ByzantineSetting{Behaviour: "lie"}, `unknown behaviour "lie"`, ""},
		{ByzantineSetting{Behaviour: "lie"}, "(or honest)", ""},
		{ByzantineSetting{Behaviour: "silent", Rate: 1.5}, "rate 1.5 out of range [0, 1]", "honest"},
		{ByzantineSetting{Behaviour: "equivocate", Rate: -1}, "rate -1 out of range", "honest"},
	} {
		err := c.s.Check(4, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) || (c.miss != "" && strings.Contains(err.Error(), c.miss)) {
			t.Errorf("%+v: %v, want an error with %q and without %q", c.s, err, c.want, c.miss)
		}
	}
	if err := (ByzantineSetting{Behaviour: "silent", Rate: 0.5}).Check(4, 1); err != nil {
		t.Errorf("silent at rate 0.5: %v", err)
	}
}

// A paused node is refused at once: before, its admin endpoint took the
// POST into its socket and answered nothing, so ordo cluster byzantine
// timed out with an error and logged no switch, and the node took the
// behaviour when it resumed (status: byzantine:silent).
func TestByzantineRefusesAPausedNode(t *testing.T) {
	bin := buildOrdo(t)
	c := upCluster(t, bin, 3, false)
	if err := c.Pause(2); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := c.Byzantine(2, ByzantineSetting{Behaviour: "silent"})
	if err == nil || !strings.Contains(err.Error(), "paused") || !strings.Contains(err.Error(), "ordo cluster resume 2") {
		t.Errorf("byzantine on a paused node: %v, want a refusal saying it is paused", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusal took %v: it waited for the paused node", d)
	}
	if err := c.Resume(2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	st, err := c.Status(2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Byzantine != nil && st.Byzantine.Behaviour != "" && st.Byzantine.Behaviour != Honest {
		t.Errorf("node 2 lies (%s) after a refused switch", st.Byzantine.Behaviour)
	}
	// Resumed, it takes one.
	if err := c.Byzantine(2, ByzantineSetting{Behaviour: "silent"}); err != nil {
		t.Errorf("byzantine on the resumed node: %v", err)
	}
}
