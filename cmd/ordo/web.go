package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ordo/check"
	"ordo/scenario"
	"ordo/scenarios"
	"ordo/trace"
	"ordo/viz/web"
	"ordo/viz/web/browser"
)

func init() { commands = append(commands, newWebCmd) }

// defaultWebScenario is what `ordo web` opens with no argument: the
// chapter's Bully figure.
const defaultWebScenario = "bully-section4"

func newWebCmd() *cobra.Command {
	var listen, title string
	var open, noCheck bool
	var names []string
	cmd := &cobra.Command{
		Use:   "web [TRACE | SCENARIO]",
		Short: "explore a run in the browser: a space-time diagram, stepped in the simulator",
		Long: `Serve a page on this machine that shows a run as a space-time diagram (one
lane per node, messages as arrows coloured by kind, drops, crashes, pauses
and partitions drawn; hover for stamps, click for the whole event and its
causal past and future, shift-click a second event for the chain that
proves a → b or that they are concurrent; checker findings link to their
events).

Given a SCENARIO (a built-in name or a file; default ` + defaultWebScenario + `), the page
drives the simulator: step forward (. or "step ▶") and back ("," or
"◀ back", by running again from the seed), see each node's state, change
the seed, inject a fault at the current step ("crash 2", "partition
1,2/3,4,5", "heal") and run on. The address holds scenario, seed,
injections and step: copy it to share the exact moment.

Given a TRACE file (ordo sim --trace, ordo trace merge, ordo trace import),
the page shows it with the checkers that apply to its protocol.

The server listens on loopback only unless --listen names another
address; it has no login, so do that only on a network you trust. The
page needs no network: it is part of ordo. For a file to send somebody,
see ordo trace html.`,
		Example: `  ordo web                          # the Bully figure, stepped
  ordo web partition-bully          # the 2|3 split brain
  ordo web run.jsonl --open         # a trace, and start a browser on it`,
		Args: maximumArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := defaultWebScenario
			if len(args) == 1 {
				arg = args[0]
			}
			o := web.ServerOptions{Names: scenarios.Names(), Lookup: lookupBuiltin, Title: title}
			if trace.IsTraceFile(arg) {
				t, err := trace.ReadFile(arg)
				if err != nil {
					return err
				}
				if !noCheck {
					if len(names) == 0 {
						names = defaultTraceChecks(&t.Meta)
					}
					if o.Results, err = check.Run(t, names); err != nil {
						return err
					}
				}
				o.Trace = t
				if o.Title == "" {
					o.Title = arg
				}
			} else {
				sc, err := loadScenario(arg)
				if err != nil {
					return fmt.Errorf("%w (ordo web takes a trace file or a scenario)", err)
				}
				o.Scenario = sc
			}
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return fmt.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8037", listen)
			}
			ip := net.ParseIP(host)
			o.AnyHost = host != "localhost" && (ip == nil || !ip.IsLoopback())
			// Viz files the linearizable checker writes for this server
			// go in a directory of its own, removed when it stops.
			vizDir, err := os.MkdirTemp("", "ordo-web-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(vizDir)
			if old, ok := os.LookupEnv("ORDO_VIZ_DIR"); ok {
				defer os.Setenv("ORDO_VIZ_DIR", old)
			} else {
				defer os.Unsetenv("ORDO_VIZ_DIR")
			}
			os.Setenv("ORDO_VIZ_DIR", vizDir)
			srv, err := web.NewServer(o)
			if err != nil {
				return err
			}
			network := "tcp"
			if ip != nil && ip.To4() != nil {
				network = "tcp4" // 0.0.0.0 means IPv4, not every family
			}
			ln, err := net.Listen(network, listen)
			if err != nil {
				return fmt.Errorf("%w (choose another address with --listen)", err)
			}
			addr := ln.Addr().(*net.TCPAddr)
			url := "http://" + ln.Addr().String() + "/"
			if addr.IP.IsUnspecified() {
				// Not an address a browser can open: loopback is, and so
				// is any of this machine's own.
				url = fmt.Sprintf("http://127.0.0.1:%d/", addr.Port)
			}
			if o.AnyHost {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: listening on %s, beyond this machine (port %d on any of its addresses); the page has no login\n", ln.Addr(), addr.Port)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ordo web: %s (ctrl-c stops)\n", url)
			if open {
				if err := openBrowser(url); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "could not start a browser (%v); open %s yourself\n", err, url)
				}
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				hs.Shutdown(sctx)
			}()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.AddCommand(newWebShotsCmd())
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8037", "address to serve on (loopback unless you name another)")
	cmd.Flags().BoolVar(&open, "open", false, "start the system's browser on the page")
	cmd.Flags().StringVar(&title, "title", "", "the page's heading for a trace (default: the file's name)")
	cmd.Flags().StringArrayVar(&names, "check", nil, "for a trace: a checker to run and show, repeatable (default: those that apply)")
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "for a trace: run no checker")
	return cmd
}

// lookupBuiltin finds a built-in scenario by name: the page may switch
// only among those, never to a file named in a URL.
func lookupBuiltin(name string) (*scenario.Scenario, error) {
	data, err := scenarios.Read(name)
	if err != nil {
		return nil, err
	}
	return parseBuiltin(name, data)
}

func openBrowser(url string) error {
	var c *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		c = exec.Command("open", url)
	case "windows":
		c = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		c = exec.Command("xdg-open", url)
	}
	return c.Start()
}

func newWebShotsCmd() *cobra.Command {
	var dir string
	var width, height int
	cmd := &cobra.Command{
		Use:   "shots",
		Short: "photograph the chapter's scenes in the viewer with a headless Chromium",
		Long: `Start the viewer and a headless Chromium (Debian's chromium, or the one
ORDO_CHROMIUM names), open each of the chapter's scenes (web.Scenes: the
Bully figure of section 4; the 2|3 split brain and the Byzantine 5/7 figure
of section 5, each with its failing check clicked) and write a PNG of each
into --dir. The README's pictures are made this way.`,
		Example: `  ordo web shots --dir docs/img`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			srv, err := web.NewServer(web.ServerOptions{Scenario: mustScenario(web.Scenes[0].Scenario), Lookup: lookupBuiltin, Names: scenarios.Names()})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(ln)
			defer hs.Close()
			b, err := browser.Start(cmd.Context(), browser.Options{Width: width, Height: height})
			if err != nil {
				return err
			}
			defer b.Close()
			files, err := browser.Shoot(b, "http://"+ln.Addr().String(), web.Scenes, dir)
			for i, f := range files {
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s\n", f, web.Scenes[i].Title)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs/img", "directory to write the PNG files into")
	cmd.Flags().IntVar(&width, "width", 1400, "window width, CSS pixels")
	cmd.Flags().IntVar(&height, "height", 760, "window height, CSS pixels")
	return cmd
}

// mustScenario is a built-in scenario that must parse (ordo's own files
// are tested to).
func mustScenario(name string) *scenario.Scenario {
	sc, err := lookupBuiltin(name)
	if err != nil {
		panic("ordo web: built-in scenario " + name + ": " + err.Error())
	}
	return sc
}
