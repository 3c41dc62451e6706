package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ordo"
	"ordo/internal/spawn"
)

// StateFileName is the file in Options.Dir where Start records the
// members' processes and endpoints, so that another process finds them
// (`ordo cluster down` stops the etcd that `ordo cluster up --detach`
// left running; StopDir).
const StateFileName = "etcd.json"

// State is what a launcher recorded about its members.
type State struct {
	Endpoints []string `json:"endpoints"` // client URLs
	TLS       bool     `json:"tls,omitempty"`
	// CA, Cert, Key: the members' certificate files (Options.CA...).
	CA      string        `json:"ca,omitempty"`
	Cert    string        `json:"cert,omitempty"`
	Key     string        `json:"key,omitempty"`
	Members []MemberState `json:"members"`
}

// MemberState is one member's process.
type MemberState struct {
	Name string `json:"name"`
	Dir  string `json:"dir"`
	Pid  int    `json:"pid"` // 0: not running
	// Args run the member again (after MemberCommand): RestartDir.
	Args   []string `json:"args,omitempty"`
	Binary string   `json:"binary,omitempty"`
}

// maxStateBytes bounds the state file (it lists at most MaxMembers).
const maxStateBytes = 64 << 10

func (c *Cluster) writeState() error {
	st := State{Endpoints: c.Endpoints(), TLS: c.opts.TLS, CA: c.opts.CA, Cert: c.opts.Cert, Key: c.opts.Key}
	c.mu.Lock()
	for i, m := range c.members {
		pid := 0
		if p := c.procs[i]; p != nil {
			pid = p.Process.Pid
		}
		st.Members = append(st.Members, MemberState{Name: m.Name, Dir: m.Dir, Pid: pid, Args: m.Args(), Binary: c.opts.Binary})
	}
	c.mu.Unlock()
	return st.write(c.opts.Dir)
}

// ReadState reads the state a launcher recorded in dir. Errors: no state
// file (os.ErrNotExist), or one that is too large or malformed (named).
func ReadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFileName)
	if _, err := os.Lstat(path); err != nil {
		return nil, err
	}
	b, err := ordo.ReadInput(path, nil, maxStateBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(st.Members) < 1 || len(st.Members) > MaxMembers || len(st.Endpoints) != len(st.Members) {
		return nil, fmt.Errorf("%s: %d members and %d endpoints: want 1..%d of each", path, len(st.Members), len(st.Endpoints), MaxMembers)
	}
	for _, e := range st.Endpoints {
		if err := CheckEndpoint(e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := checkCerts(st.CA, st.Cert, st.Key, st.TLS); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &st, nil
}

// StopDir stops the members a launcher left running in dir (Options.Detach),
// gracefully (SIGTERM, SIGKILL after 5 s), from any process: a pid is
// signalled only if it still runs that member (Linux: its command line
// names the member's data directory). It reports whether any member ran;
// no state file is not an error.
func StopDir(dir string) (bool, error) {
	st, err := ReadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ran := false
	var errs []error
	for i, m := range st.Members {
		if m.Pid <= 0 || !isMember(m.Pid, m.Dir) {
			continue
		}
		ran = true
		if err := stopPid(m.Pid, m.Dir); err != nil {
			errs = append(errs, fmt.Errorf("etcd member %s: %w", m.Name, err))
			continue
		}
		st.Members[i].Pid = 0
	}
	if ran {
		errs = append(errs, st.write(dir))
	}
	return ran, errors.Join(errs...)
}

func (st *State) write(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, StateFileName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, StateFileName))
}

// RestartDir starts again, detached and from their own data, the members
// StopDir stopped in dir (`ordo cluster start` of a lease cluster after
// `ordo cluster down`), on the ports they had, and waits until each
// serves. It reports how many it started; none recorded is not an error.
// Errors: a member whose recorded arguments do not parse, a port taken
// meanwhile (the member's log says so), a member that does not serve
// within 30 s.
func RestartDir(ctx context.Context, dir string) (int, error) {
	st, err := ReadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	started := 0
	for i, ms := range st.Members {
		if ms.Pid > 0 && isMember(ms.Pid, ms.Dir) {
			continue
		}
		m, err := ParseMember(ms.Args)
		if err != nil || m.Dir != ms.Dir || ms.Binary == "" {
			return started, fmt.Errorf("%s: member %s cannot be started again: %v", filepath.Join(dir, StateFileName), ms.Name, err)
		}
		logf, err := os.OpenFile(m.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return started, err
		}
		cmd := exec.Command(ms.Binary, append(append([]string(nil), MemberCommand...), ms.Args...)...)
		cmd.Stdout, cmd.Stderr = logf, logf
		spawn.Prepare(cmd, false)
		err = cmd.Start()
		logf.Close()
		if err != nil {
			return started, fmt.Errorf("etcd: starting member %s: %w", ms.Name, err)
		}
		go cmd.Wait() // reap, if this process lives that long
		st.Members[i].Pid = cmd.Process.Pid
		started++
	}
	if started == 0 {
		return 0, nil
	}
	if err := st.write(dir); err != nil {
		return started, err
	}
	tc, err := clientConfig(st.TLS, st.CA, st.Cert, st.Key)
	if err != nil {
		return started, err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: st.Endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop(), TLS: tc})
	if err != nil {
		return started, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, memberStartTimeout)
	defer cancel()
	for i, ep := range st.Endpoints {
		for {
			sctx, scancel := context.WithTimeout(ctx, time.Second)
			_, err := cli.Status(sctx, ep)
			scancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return started, fmt.Errorf("etcd: member %s does not serve again (%v); see its log in %s", st.Members[i].Name, err, dir)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return started, nil
}

// RunningIn lists the members of the state in dir whose process still runs.
func RunningIn(dir string) []string {
	st, err := ReadState(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range st.Members {
		if m.Pid > 0 && isMember(m.Pid, m.Dir) {
			out = append(out, m.Name)
		}
	}
	return out
}

// stopPid sends SIGTERM to a member that is not our child and polls
// until it is gone (its parent, init, reaps it), then SIGKILL.
func stopPid(pid int, dir string) error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := syscall.Kill(pid, sig); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				return nil
			}
			return err
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if !isMember(pid, dir) {
				return nil
			}
		}
	}
	return fmt.Errorf("pid %d did not exit after SIGTERM and SIGKILL (%s)", pid, strings.TrimSpace(dir))
}
