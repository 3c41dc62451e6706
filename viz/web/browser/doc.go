// Package browser drives a real headless Chromium from Go (through
// chromedp) to test and photograph ordo's viewer (viz/web): the browser
// tests of the space-time debugger and `ordo web shots` use it. It is kept
// apart so that only what needs a browser depends on chromedp.
//
//	b, err := browser.Start(ctx, browser.Options{})
//	if errors.Is(err, browser.ErrNotFound) { ... }
//	defer b.Close()
//	took, err := b.Open("http://127.0.0.1:8037/", 10*time.Second)
//	st, err := browser.Eval[map[string]any](b, "window.ordoViewer.state()")
//	fmt.Println(took, st["events"], b.Errors())
package browser
