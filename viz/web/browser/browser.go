package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// Names are the programs Find looks for on PATH, in order.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// ErrNotFound is returned by Find when no Chromium is installed.
var ErrNotFound = errors.New("browser: no Chromium found (install Debian's chromium, or set ORDO_CHROMIUM to its path)")

// Find returns the path of a Chromium: $ORDO_CHROMIUM, or the first of
// Names on PATH. Errors: ErrNotFound.
func Find() (string, error) {
	if p := os.Getenv("ORDO_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("browser: ORDO_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, n := range Names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options say how to start the browser.
type Options struct {
	Path          string // the Chromium to run (default: Find)
	Width, Height int    // the window, in CSS pixels (default 1400×800)
}

// Browser is one headless Chromium with one tab, its own empty profile (a
// temporary directory removed by Close), no network of its own (no
// background requests, no QUIC) and every console error and uncaught
// exception of its pages recorded.
type Browser struct {
	ctx    context.Context
	cancel func()
	dir    string
	mu     sync.Mutex
	errs   []string
}

// Start starts a headless Chromium. It stops when ctx ends or at Close.
// Errors: no Chromium (ErrNotFound), or it did not start.
func Start(ctx context.Context, o Options) (*Browser, error) {
	if o.Path == "" {
		p, err := Find()
		if err != nil {
			return nil, err
		}
		o.Path = p
	}
	if o.Width <= 0 {
		o.Width = 1400
	}
	if o.Height <= 0 {
		o.Height = 800
	}
	dir, err := os.MkdirTemp("", "ordo-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(o.Path),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.DisableGPU,
		// Root in a container has no user namespace for the sandbox; the
		// pages are ordo's own, served from this machine.
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &Browser{ctx: bctx, dir: dir, cancel: func() { bcancel(); acancel() }}
	// Subscribing starts the browser; the messages are read as they come.
	msgs := chromedp.Console(bctx)
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w", o.Path, err)
	}
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.record(m.String())
			}
		}
	}()
	return b, nil
}

func (b *Browser) record(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) < 1000 {
		b.errs = append(b.errs, s)
	}
}

// Errors returns the console errors and uncaught exceptions of every page
// opened so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
	b.cancel()
	os.RemoveAll(b.dir)
}

// Open loads url and waits until ordo's viewer is up (window.ordoViewer
// set) or timeout passes. It returns how long the load took.
func (b *Browser) Open(url string, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	start := time.Now()
	err := chromedp.Do(ctx, chromedp.Navigate(url))
	if err == nil {
		err = b.poll(ctx, "window.ordoViewer !== undefined")
	}
	if err != nil {
		return 0, fmt.Errorf("browser: open %s: %w (errors on the page: %v)", url, err, b.Errors())
	}
	return time.Since(start), nil
}

// poll waits until expr is true. A page that navigates while it is polled
// (a button's link, a redirect) destroys the context the poll ran in, and
// the browser says so in several ways ("Cannot find context", "target
// navigated"): poll again in the new page until ctx ends, and report the
// last error then.
func (b *Browser) poll(ctx context.Context, expr string) error {
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(10*time.Millisecond)))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Eval runs a JavaScript expression in b's page and returns its value,
// decoded from JSON into T.
func Eval[T any](b *Browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		return v, fmt.Errorf("browser: %s: %w", expr, err)
	}
	return v, nil
}

// Click sends a real mouse press and release at (x, y), CSS pixels from
// the page's top left, with shift held when shift is set.
func (b *Browser) Click(x, y float64, shift bool) error {
	mods := chromedp.ModifierNone
	if shift {
		mods = chromedp.ModifierShift
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(ctx, chromedp.MouseClickXY(x, y, chromedp.ButtonModifiers(mods)))
}

// ClickOn clicks the element CSS selector sel matches, as a user does.
func (b *Browser) ClickOn(sel string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
}

// Key types one key (a character, or chromedp/kb's names such as
// kb.ArrowRight) into the page.
func (b *Browser) Key(key string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(ctx, chromedp.KeyEvent(key))
}

// WaitFor waits until the JavaScript expression expr is true in the page
// (after a navigation the page made itself, e.g. a step button), or
// timeout passes.
func (b *Browser) WaitFor(expr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := b.poll(ctx, expr); err != nil {
		return fmt.Errorf("browser: waiting for %s: %w (errors on the page: %v)", expr, err, b.Errors())
	}
	return nil
}

// Screenshot writes a PNG of the window as the user sees it.
func (b *Browser) Screenshot(path string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	return os.WriteFile(path, png, 0o644)
}
