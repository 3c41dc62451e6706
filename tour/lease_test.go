package tour

import "testing"

// The lease scene's own check tells the three paused-leader runs apart: each
// trace satisfies its own story and no other.
func TestPausedStoryTellsRunsApart(t *testing.T) {
	stories := []struct {
		file          string
		closed, fence bool
	}{
		{"lease-paused-leader", true, true},
		{"lease-paused-leader-fenced", false, true},
		{"lease-paused-leader-unfenced", false, false},
	}
	for _, run := range stories {
		r, err := runBuiltin(run.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stories {
			err := pausedStory(r.Trace, s.closed, s.fence)
			if (s.file == run.file) != (err == nil) {
				t.Errorf("trace of %s judged as the story of %s: %v", run.file, s.file, err)
			}
		}
	}
}
