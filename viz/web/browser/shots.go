package browser

import (
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"ordo/viz/web"
)

// Shoot photographs each scene as the page at base (a running web.Server
// that can look up the scenes' scenarios) shows it, into dir/scene.File,
// and returns the files written. Errors: a page that does not load, a
// Click that matches nothing, a page that reports an error, or a file
// that cannot be written.
func Shoot(b *Browser, base string, scenes []web.Scene, dir string) ([]string, error) {
	var out []string
	for _, sc := range scenes {
		u := base + "/sim?" + url.Values{"scenario": {sc.Scenario}, "pos": {"end"}}.Encode()
		if _, err := b.Open(u, 60*time.Second); err != nil {
			return out, err
		}
		if sc.Zoom > 0 {
			if _, err := Eval[any](b, fmt.Sprintf("window.ordoViewer.zoom(%g), true", sc.Zoom)); err != nil {
				return out, err
			}
		}
		if sc.Show != "" {
			id, err := Eval[int](b, fmt.Sprintf("window.ordoViewer.find(%q)", sc.Show))
			if err != nil {
				return out, err
			}
			if id < 0 {
				return out, fmt.Errorf("scene %s: no %s event in %s", sc.File, sc.Show, sc.Scenario)
			}
			if _, err := Eval[any](b, fmt.Sprintf("window.ordoViewer.place(%d, 0.08), true", id)); err != nil {
				return out, err
			}
		}
		if sc.Click != "" {
			if err := b.ClickOn(sc.Click); err != nil {
				return out, fmt.Errorf("scene %s: click %s: %w", sc.File, sc.Click, err)
			}
		}
		if errs := b.Errors(); len(errs) > 0 {
			return out, fmt.Errorf("scene %s: the page reported errors: %v", sc.File, errs)
		}
		f := filepath.Join(dir, sc.File)
		if err := b.Screenshot(f); err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}
