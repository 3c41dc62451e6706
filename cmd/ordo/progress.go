package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// terminalProgress returns a progress callback for long campaigns (done
// of total runs) drawing a bar on w with github.com/schollz/progressbar:
// redrawn in place at most ten times a second, with the count, the rate
// and the time left. Callers draw it only when standardError says w is a
// terminal: in a log or a pipe a redrawn bar is noise.
func terminalProgress(w io.Writer, what string) func(done, total int) {
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(what),
				progressbar.OptionSetWidth(40),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
		}
		_ = bar.Set(done) // an error is a failed write to the terminal: the bar is a courtesy
	}
}
