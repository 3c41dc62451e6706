package etcd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"ordo/internal/spawn"
)

// etcd's own leader election (go.etcd.io/etcd/client/v3/concurrency) as a
// candidate process: the baseline ordo's lease election is measured
// against (issue 15; chapter section 4, "현대적 리더 선출 → 외부 서비스
// 활용"). A candidate opens a session (a lease kept alive every TTL/3),
// campaigns (a key under the prefix bound to the lease; the oldest key
// leads, the others wait on their predecessor's deletion) and reports on
// stdout, one line each, with the wall clock in Unix nanoseconds:
//
//	ready NAME T    the session is open; the campaign starts
//	leader NAME T   Campaign returned: this candidate leads
//	lost NAME T     the session ended (its lease is gone); the process exits
//
// A SIGKILL of the leading process is the crash the failover bench times:
// its lease expires TTL after its last keepalive and etcd deletes its key,
// which wakes the next candidate.

// CampaignCommand is the ordo subcommand that runs one candidate (hidden
// from ordo's help): `ordo service etcd-campaign --name ... --endpoints ...`.
var CampaignCommand = []string{"service", "etcd-campaign"}

// IsCampaignArgs reports whether args (os.Args[1:]) ask to run a
// candidate: a test binary's TestMain uses it to play the candidate.
func IsCampaignArgs(args []string) bool {
	return len(args) >= 2 && args[0] == CampaignCommand[0] && args[1] == CampaignCommand[1]
}

// Campaign configures one candidate process.
type Campaign struct {
	Name      string   // the candidate's value under the prefix (its report names it)
	Endpoints []string // etcd client URLs, 1..MaxMembers
	TTL       int      // session lease TTL, seconds (2..3600: etcd refuses less than about 1.5 election timeouts)
	Prefix    string   // election prefix, e.g. "/etcd-election/"
	TLS       bool     // the endpoints speak TLS with unverified (auto-TLS) certificates
}

// Campaign bounds.
const (
	MinCampaignTTL = 2
	MaxCampaignTTL = 3600
	maxReportLine  = 512
)

// Args are the command-line arguments after CampaignCommand that make the
// candidate process run c (read back by ParseCampaign).
func (c Campaign) Args() []string {
	a := []string{"--name", c.Name, "--endpoints", strings.Join(c.Endpoints, ","), "--ttl", strconv.Itoa(c.TTL), "--prefix", c.Prefix}
	if c.TLS {
		a = append(a, "--tls")
	}
	return a
}

// ParseCampaign reads the arguments Args wrote.
func ParseCampaign(args []string) (Campaign, error) {
	var c Campaign
	var eps string
	fs := flag.NewFlagSet("etcd-campaign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Name, "name", "", "candidate name")
	fs.StringVar(&eps, "endpoints", "", "etcd client URLs, comma-separated")
	fs.IntVar(&c.TTL, "ttl", 2, "session TTL in seconds")
	fs.StringVar(&c.Prefix, "prefix", "/etcd-election/", "election prefix")
	fs.BoolVar(&c.TLS, "tls", false, "TLS without verification (auto-TLS members)")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("etcd-campaign: %w", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("etcd-campaign: unexpected argument %q", fs.Arg(0))
	}
	if eps != "" {
		c.Endpoints = strings.Split(eps, ",")
	}
	return c, c.validate()
}

func (c Campaign) validate() error {
	if c.Name == "" || len(c.Name) > 64 || strings.ContainsAny(c.Name, " \t\r\n") {
		return fmt.Errorf("etcd-campaign: --name %q: want 1..64 characters without spaces", c.Name)
	}
	if len(c.Endpoints) < 1 || len(c.Endpoints) > MaxMembers {
		return fmt.Errorf("etcd-campaign: --endpoints names %d URLs, want 1..%d", len(c.Endpoints), MaxMembers)
	}
	for _, e := range c.Endpoints {
		if err := CheckEndpoint(e); err != nil {
			return fmt.Errorf("etcd-campaign: --endpoints: %w", err)
		}
	}
	if c.TTL < MinCampaignTTL || c.TTL > MaxCampaignTTL {
		return fmt.Errorf("etcd-campaign: --ttl %d: want %d..%d seconds", c.TTL, MinCampaignTTL, MaxCampaignTTL)
	}
	if !strings.HasPrefix(c.Prefix, "/") || len(c.Prefix) > 128 {
		return fmt.Errorf("etcd-campaign: --prefix %q: want a key prefix starting with / (at most 128 bytes)", c.Prefix)
	}
	return nil
}

// CheckEndpoint accepts an etcd client URL: http(s)://HOST:PORT, no path.
func CheckEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.Port() == "" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q: want http(s)://HOST:PORT", s)
	}
	return nil
}

// RunCampaign runs candidate c until ctx ends (it then resigns and closes
// its session, so the next candidate leads at once) or its session is
// lost (an error). Reports go to out, one line each (see the file
// comment).
func RunCampaign(ctx context.Context, c Campaign, out io.Writer) error {
	if err := c.validate(); err != nil {
		return err
	}
	cfg := clientv3.Config{Endpoints: c.Endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if c.TLS {
		cfg.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return fmt.Errorf("etcd-campaign %s: %w", c.Name, err)
	}
	defer cli.Close()
	// The lease is granted here, under a deadline, so that a session's
	// keepalives outlive ctx: on a stop the candidate resigns and revokes
	// its lease (Session.Close) instead of leaving it to expire.
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	g, err := cli.Grant(gctx, int64(c.TTL))
	cancel()
	if err != nil {
		return fmt.Errorf("etcd-campaign %s: lease grant: %w", c.Name, err)
	}
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(c.TTL), concurrency.WithLease(g.ID))
	if err != nil {
		return fmt.Errorf("etcd-campaign %s: session: %w", c.Name, err)
	}
	defer s.Close()
	report := func(kind string) {
		fmt.Fprintf(out, "%s %s %d\n", kind, c.Name, time.Now().UnixNano())
	}
	report("ready")
	e := concurrency.NewElection(s, c.Prefix)
	if err := e.Campaign(ctx, c.Name); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("etcd-campaign %s: campaign: %w", c.Name, err)
	}
	// etcd's recipe as users call it: Campaign returned, so this candidate
	// leads. (It does not check that the session survived the wait: etcd
	// issues #11051 and #19597; ordo's lease election does.)
	report("leader")
	select {
	case <-ctx.Done():
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		e.Resign(rctx)
		return nil
	case <-s.Done():
		report("lost")
		return fmt.Errorf("etcd-campaign %s: session lost", c.Name)
	}
}

// CampaignMain runs the candidate that args (after CampaignCommand)
// describe until ctx is done: the body of `ordo service etcd-campaign`.
func CampaignMain(ctx context.Context, args []string, out io.Writer) error {
	c, err := ParseCampaign(args)
	if err != nil {
		return err
	}
	return RunCampaign(ctx, c, out)
}

// CandidateEvent is one report of a candidate process.
type CandidateEvent struct {
	Kind string    // "ready", "leader" or "lost"
	Name string    // the candidate's name
	At   time.Time // the candidate's wall clock when it reported
}

// Candidate is a running candidate process started by StartCandidate.
type Candidate struct {
	Campaign Campaign
	cmd      *exec.Cmd
	done     chan struct{}
	events   chan CandidateEvent
	mu       sync.Mutex
	bad      error // first unreadable report
}

// maxCandidateEvents bounds the reports a candidate can queue; one
// campaign makes at most three.
const maxCandidateEvents = 16

// StartCandidate runs candidate c as a process of binary (which must
// understand CampaignCommand: ordo, or a test binary whose TestMain calls
// CampaignMain), its stderr appended to log. The process dies with this
// one (Linux).
func StartCandidate(binary string, c Campaign, log string) (*Candidate, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(binary, append(append([]string(nil), CampaignCommand...), c.Args()...)...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	spawn.Prepare(cmd, true)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("etcd: starting candidate %s: %w", c.Name, err)
	}
	k := &Candidate{Campaign: c, cmd: cmd, done: make(chan struct{}), events: make(chan CandidateEvent, maxCandidateEvents)}
	go func() {
		k.read(stdout)
		cmd.Wait()
		close(k.done)
	}()
	return k, nil
}

// read parses the candidate's reports until its stdout closes.
func (k *Candidate) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxReportLine), maxReportLine)
	for sc.Scan() {
		ev, err := parseReport(sc.Text())
		if err == nil && ev.Name != k.Campaign.Name {
			err = fmt.Errorf("report names %q, not %q", ev.Name, k.Campaign.Name)
		}
		if err != nil {
			k.fail(err)
			continue
		}
		select {
		case k.events <- ev:
		default:
			k.fail(errors.New("more reports than a campaign makes"))
		}
	}
	if err := sc.Err(); err != nil {
		k.fail(err)
	}
	io.Copy(io.Discard, r)
}

func (k *Candidate) fail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.bad == nil {
		k.bad = fmt.Errorf("etcd: candidate %s: %w", k.Campaign.Name, err)
	}
}

// parseReport reads one "KIND NAME UNIXNANO" line.
func parseReport(line string) (CandidateEvent, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return CandidateEvent{}, fmt.Errorf("report %q: want KIND NAME UNIXNANO", line)
	}
	switch f[0] {
	case "ready", "leader", "lost":
	default:
		return CandidateEvent{}, fmt.Errorf("report %q: unknown kind", line)
	}
	ns, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || ns <= 0 {
		return CandidateEvent{}, fmt.Errorf("report %q: bad time", line)
	}
	return CandidateEvent{Kind: f[0], Name: f[1], At: time.Unix(0, ns)}, nil
}

// Events delivers the candidate's reports in order.
func (k *Candidate) Events() <-chan CandidateEvent { return k.events }

// Err is the first report the candidate could not make sense of, if any.
func (k *Candidate) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.bad
}

// Done is closed once the candidate process has exited.
func (k *Candidate) Done() <-chan struct{} { return k.done }

// Pid is the candidate's process id.
func (k *Candidate) Pid() int { return k.cmd.Process.Pid }

// Wait waits for the next report of kind (skipping others) until ctx ends
// or the process exits.
func (k *Candidate) Wait(ctx context.Context, kind string) (CandidateEvent, error) {
	for {
		select {
		case ev := <-k.events:
			if ev.Kind == kind {
				return ev, nil
			}
		case <-k.done:
			// Reports read before the exit are still queued.
			select {
			case ev := <-k.events:
				if ev.Kind == kind {
					return ev, nil
				}
				continue
			default:
			}
			return CandidateEvent{}, fmt.Errorf("etcd: candidate %s exited before it reported %s", k.Campaign.Name, kind)
		case <-ctx.Done():
			return CandidateEvent{}, fmt.Errorf("etcd: candidate %s did not report %s: %w", k.Campaign.Name, kind, ctx.Err())
		}
	}
}

// Kill sends SIGKILL to the candidate (a crash: its session is not
// closed, its lease runs out) and waits for it to exit. It returns the
// wall-clock instant just before the signal: a failover is timed from it.
func (k *Candidate) Kill() (time.Time, error) {
	return k.signal(syscall.SIGKILL)
}

// Stop asks the candidate to resign and exit (SIGTERM), then kills it
// after 5 s.
func (k *Candidate) Stop() error {
	if _, err := k.signal(syscall.SIGTERM); err != nil {
		_, err = k.signal(syscall.SIGKILL)
		return err
	}
	return nil
}

func (k *Candidate) signal(sig syscall.Signal) (time.Time, error) {
	select {
	case <-k.done:
		return time.Time{}, nil
	default:
	}
	at := time.Now()
	if err := k.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return at, fmt.Errorf("etcd: signal candidate %s: %w", k.Campaign.Name, err)
	}
	select {
	case <-k.done:
		return at, nil
	case <-time.After(5 * time.Second):
		return at, fmt.Errorf("etcd: candidate %s (pid %d) did not exit within 5s of %v", k.Campaign.Name, k.Pid(), sig)
	}
}
