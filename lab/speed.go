package lab

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Speed is how fast a campaign drives protocol code: messages handed to a
// node's Receive per CPU-second of the whole process (every worker, the
// simulator, the network model, the fault generator and every checker
// running online), the figure issue 9 compares with etcd-io/raft's bare
// in-memory loop (the project's anchor, run by its run.sh), which models no
// network and checks nothing.
type Speed struct {
	Protocol    string   `json:"protocol"`
	Profile     string   `json:"profile"`
	Nodes       int      `json:"nodes"`
	Seeds       int      `json:"seeds"`
	Duration    string   `json:"duration"`
	Checks      []string `json:"checks"`
	Wire        bool     `json:"wire"`
	Delivered   uint64   `json:"messages_delivered"`
	CPUSeconds  float64  `json:"cpu_s"`
	WallSeconds float64  `json:"wall_s"`
	MsgsPerCPU  float64  `json:"msgs_per_cpu_s"`
	Violations  int      `json:"bad_seeds"`
	// Anchor is the anchor loop's msgs/cpu-s, and Ratio ours over it, when
	// the anchor ran in the same command (0 otherwise).
	Anchor float64 `json:"anchor_msgs_per_cpu_s,omitempty"`
	Ratio  float64 `json:"ratio,omitempty"`
}

// MeasureSpeed runs the campaign c and measures its CPU time (user and
// system, all threads) with getrusage. Errors: the campaign's.
func MeasureSpeed(c ExploreConfig) (*Speed, error) {
	before, err := cpuTime()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rep, err := Explore(c, nil)
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	after, err := cpuTime()
	if err != nil {
		return nil, err
	}
	cpu := (after - before).Seconds()
	sp := &Speed{Protocol: c.Protocol, Profile: c.Profile, Nodes: c.Nodes, Seeds: c.Seeds,
		Duration: c.Duration.String(), Checks: rep.CheckNames(), Wire: c.Wire, Delivered: rep.Delivered,
		CPUSeconds: cpu, WallSeconds: wall.Seconds(), Violations: rep.BadSeeds}
	if sp.Profile == "" {
		sp.Profile = "friendly"
	}
	if cpu > 0 {
		sp.MsgsPerCPU = float64(rep.Delivered) / cpu
	}
	return sp, nil
}

var anchorLine = regexp.MustCompile(`([0-9.]+) msgs/cpu-s`)

// RunAnchor runs the anchor's script (DIR/run.sh: it builds etcd-io/raft's
// loop and runs it for a few seconds) and returns its msgs/cpu-s. Errors:
// the script fails, or prints no "N msgs/cpu-s".
func RunAnchor(dir string) (float64, error) {
	out, err := exec.Command("bash", filepath.Join(dir, "run.sh")).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("anchor %s: %v\n%s", dir, err, out)
	}
	m := anchorLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("anchor %s printed no msgs/cpu-s:\n%s", dir, out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
