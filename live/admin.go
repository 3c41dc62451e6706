package live

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ordo"
	"ordo/live/transport"
)

// Status is what GET /status answers.
type Status struct {
	ID            ordo.NodeID            `json:"id"`
	Pid           int                    `json:"pid"`
	Protocol      string                 `json:"protocol"`
	Boot          int                    `json:"boot"` // 1 for the first start, +1 per restart
	Role          string                 `json:"role"` // from the protocol's notes; "" before the first
	Term          int64                  `json:"term"`
	Leader        ordo.NodeID            `json:"leader"` // 0: unknown
	Elections     int                    `json:"elections"`
	LeaderChanges int                    `json:"leader_changes"`
	Peers         []transport.PeerStatus `json:"peers"`
	Faults        transport.Faults       `json:"faults"`
	Now           int64                  `json:"now_ns"` // wall ns since the cluster epoch
	// Timers says how late the event loop fires timers: a starved host
	// (starve.go).
	Timers Starvation `json:"timers"`
	// Byzantine is the node's lie setting and count (byzantine.go; nil:
	// it never lied).
	Byzantine *ByzantineStatus `json:"byzantine,omitempty"`
	// Rejected counts what the node refused as a receiver, by reason:
	// "connection: tls identity" (a hello claiming another node than its
	// certificate names: a forged sender), "connection: ..." for other
	// refused connections, and "rejected: ..." for messages the decoder
	// refused (garbage).
	Rejected map[string]uint64 `json:"rejected,omitempty"`
	// State is the protocol's own state (ordo.StateReporter) as of a
	// turn at most 100 ms old (state.go); absent for a protocol that
	// reports none.
	State json.RawMessage `json:"state,omitempty"`
}

// Status returns the node's current status.
func (r *Runtime) Status() Status {
	r.statusMu.Lock()
	s := r.status
	r.statusMu.Unlock()
	return Status{
		ID: r.id, Pid: os.Getpid(), Protocol: r.proto.Name, Boot: r.boot, Role: s.Role, Term: s.Term, Leader: s.Leader,
		Elections: s.Elections, LeaderChanges: s.LeaderChanges, Peers: r.tr.Peers(), Faults: r.tr.Faults(),
		Now: time.Since(r.epoch).Nanoseconds(), Timers: r.late.snapshot(time.Now()),
		Byzantine: r.byzantineStatus(), Rejected: r.rejects(), State: r.protocolState(),
	}
}

// SetFaults sets the fault layer of the node's transport.
func (r *Runtime) SetFaults(f transport.Faults) error {
	if err := r.tr.SetFaults(f); err != nil {
		return err
	}
	r.log.Info("faults set", "block_out", f.BlockOut, "block_in", f.BlockIn, "delay", time.Duration(f.Delay), "loss", f.Loss)
	return nil
}

// Bounds of the admin endpoint.
const (
	// MaxAdminBody bounds a POST body: a fault setting names at most
	// MaxClusterNodes peers twice, far below this.
	MaxAdminBody = 64 << 10
	// MaxAdminTokenFile bounds the token file read at start.
	MaxAdminTokenFile = 4 << 10
	// adminTokenBytes is the token's entropy: 256 bits, hex-encoded.
	adminTokenBytes = 32
	// minAdminToken is the shortest token a node accepts from its file.
	minAdminToken = 32
)

// AdminTokenFileName is the file `ordo cluster up` writes the admin token
// to, beside the cluster file, mode 0600.
const AdminTokenFileName = "admin.token"

// GenerateAdminToken writes a fresh random token (256 bits, hex) to path
// with mode 0600, replacing any earlier file, and returns it.
func GenerateAdminToken(path string) (string, error) {
	b := make([]byte, adminTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b)
	// Removed first so that the new file is created 0600 whatever the old
	// one's mode was.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return tok, f.Close()
}

// ReadAdminToken reads a token file: a regular file that only its owner
// may read (mode 0600 or stricter), of at most MaxAdminTokenFile bytes,
// holding one token of at least 32 characters (surrounding whitespace
// ignored). Errors name the file and what to do.
func ReadAdminToken(path string) (string, error) { return readToken("admin token", path) }

// SecretFileName is the file ordo cluster up writes the cluster's secret
// to, beside the cluster file, mode 0600 (Config.Secret).
const SecretFileName = "cluster.secret"

// ReadSecret reads the cluster's secret file as ReadAdminToken reads a
// token.
func ReadSecret(path string) (string, error) { return readToken("cluster secret", path) }

// readToken reads a token file as ReadAdminToken says; what names it in
// errors ("admin token", "client token").
func readToken(what, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s %s: not a regular file", what, path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s %s: mode %v lets others read it; chmod 600 %s", what, path, st.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxAdminTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", what, path, err)
	}
	if len(b) > MaxAdminTokenFile {
		return "", fmt.Errorf("%s %s: longer than %d bytes", what, path, MaxAdminTokenFile)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < minAdminToken || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s %s: want one token of at least %d characters", what, path, minAdminToken)
	}
	return tok, nil
}

// adminHandler serves the admin endpoint:
//
//	GET  /status   the node's role, term, leader, peers and timer lateness (JSON)
//	GET  /faults   the fault layer's setting (JSON)
//	POST /faults   replace it: {"block_out":[3],"block_in":[3],"delay":"50ms","loss":0.1}
//	POST /heal     clear it
//	GET  /clock    the node's clock: offset, drift, monotonic reading (JSON)
//	POST /clock    step, offset or drift it: {"step":"10s"}, {"drift_ppm":100}
//	GET  /metrics  Prometheus metrics
//
// Every request must name a loopback host in its Host header; every route
// but /metrics needs the cluster's bearer token when the cluster file names
// one (admin_token); a POST must be application/json, of at most
// MaxAdminBody bytes, one JSON value with nothing after it. Every fault it
// applies goes to the cluster's fault log. See docs/live.md, "Threat model".
func (r *Runtime) adminHandler() (http.Handler, error) {
	var token string
	if r.cfg.AdminToken != "" {
		var err error
		if token, err = ReadAdminToken(r.cfg.Path(r.cfg.AdminToken)); err != nil {
			return nil, fmt.Errorf("node %v: %w", r.id, err)
		}
	} else {
		r.log.Warn("admin endpoint without a token: any local process can set this node's faults (cluster file has no admin_token)")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, r.Status())
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, r.tr.Faults())
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, req *http.Request) {
		var f transport.Faults
		if !decodeJSONBody(w, req, &f, "faults") {
			return
		}
		if err := r.SetFaults(f); err != nil {
			http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.logFaults(f)
		writeJSON(w, r.tr.Faults())
	})
	mux.HandleFunc("POST /heal", func(w http.ResponseWriter, req *http.Request) {
		if !decodeJSONBody(w, req, nil, "heal") {
			return
		}
		r.SetFaults(transport.Faults{})
		r.logFaults(transport.Faults{})
		writeJSON(w, r.tr.Faults())
	})
	// Metrics are read-only counters, served without the token so that a
	// scraper needs no secret (docs/live.md); the Host check still holds.
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.metrics.reg, promhttp.HandlerOpts{}))
	// POST /release: a node started held (Options.Hold) calls its
	// protocol's Start now; again, or on a node not held, it is a no-op.
	mux.HandleFunc("POST /release", func(w http.ResponseWriter, req *http.Request) {
		if !decodeJSONBody(w, req, nil, "release") {
			return
		}
		if r.held != nil {
			r.released.Do(func() { close(r.held) })
		}
		writeJSON(w, map[string]bool{"ok": true})
	})
	r.clockRoutes(mux)     // GET, POST /clock: the node's clock fault (clock.go)
	r.faultRoutes(mux)     // POST /pause, /resume, /fail-sync (faults_node.go)
	r.byzantineRoutes(mux) // POST /byzantine (byzantine.go)
	// The address the endpoint listens on is its own name too (a node in
	// a network namespace is reached on its bridge address): a rebinding
	// page sends its own host name, never this address.
	var own []string
	if r.adminLn != nil {
		if h, _, err := net.SplitHostPort(r.adminLn.Addr().String()); err == nil {
			if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
				own = append(own, h)
			}
		}
	}
	return adminGuard(mux, token, own...), nil
}

// logFaults records a fault setting the endpoint applied in the cluster's
// fault log, as the cluster commands do, so the merged trace and its
// checkers see it whoever set it. by=admin tells it from the commands'
// own records.
func (r *Runtime) logFaults(f transport.Faults) {
	err := LogFault(r.cfg, time.Since(r.epoch).Nanoseconds(), "faults", "node", int(r.id),
		"block_out", fmt.Sprint(f.BlockOut), "block_in", fmt.Sprint(f.BlockIn),
		"delay", time.Duration(f.Delay).String(), "loss", f.Loss, "by", "admin")
	if err != nil {
		r.log.Error("fault log", "err", err)
	}
}

// logClock records a clock fault the endpoint applied (see logFaults).
func (r *Runtime) logClock(st ClockState) {
	err := LogFault(r.cfg, time.Since(r.epoch).Nanoseconds(), "clock", "node", int(r.id),
		"offset", time.Duration(st.Offset).String(), "drift_ppm", st.DriftPPM, "by", "admin")
	if err != nil {
		r.log.Error("fault log", "err", err)
	}
}

// adminGuard wraps the admin routes with the endpoint's checks, in order:
// a loopback Host (403: a DNS-rebinding page names its own host), the
// bearer token (401), a JSON content type on POST (415: a cross-origin
// form or text/plain POST needs no preflight, JSON does), and a bounded
// body (413, via http.MaxBytesReader).
func adminGuard(next http.Handler, token string, own ...string) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !allowedHost(req.Host, own) {
			http.Error(w, fmt.Sprintf("host %q is not a loopback name or address", req.Host), http.StatusForbidden)
			return
		}
		open := req.Method == http.MethodGet && req.URL.Path == "/metrics"
		if token != "" && !open {
			if !bearerMatches(req, want) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ordo"`)
				http.Error(w, "missing or wrong admin token (the cluster's admin.token)", http.StatusUnauthorized)
				return
			}
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				http.Error(w, "want Content-Type: application/json", http.StatusUnsupportedMediaType)
				return
			}
		}
		req.Body = http.MaxBytesReader(w, req.Body, MaxAdminBody)
		next.ServeHTTP(w, req)
	})
}

// allowedHost reports whether a Host header names this machine by a
// loopback name or address (localhost, 127.0.0.0/8, ::1) or is one of the
// endpoint's own addresses.
func allowedHost(host string, own []string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	for _, o := range own {
		if oip := net.ParseIP(o); oip != nil && oip.Equal(ip) {
			return true
		}
	}
	return false
}

// decodeJSONBody reads one JSON value of the request's body into v (nil:
// the body must be empty or one JSON value, which is ignored), refusing
// unknown fields and anything after the value. It answers the error itself
// and reports whether to go on.
func decodeJSONBody(w http.ResponseWriter, req *http.Request, v any, what string) bool {
	dec := json.NewDecoder(req.Body)
	dec.DisallowUnknownFields()
	if v == nil {
		var raw json.RawMessage
		v = &raw
		if err := dec.Decode(v); err == io.EOF {
			return true // an empty body
		} else if err != nil {
			return badBody(w, what, err)
		}
	} else if err := dec.Decode(v); err != nil {
		return badBody(w, what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
		return badBody(w, what, err)
	}
	return true
}

func badBody(w http.ResponseWriter, what string, err error) bool {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, fmt.Sprintf("%s: body larger than %d bytes", what, tooBig.Limit), http.StatusRequestEntityTooLarge)
		return false
	}
	http.Error(w, what+": "+err.Error(), http.StatusBadRequest)
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		fmt.Fprintln(w, err)
	}
}

// bearerMatches reports whether req carries "Authorization: Bearer T"
// with sha256(T) = want. The scheme's name is case-insensitive (RFC 7235,
// section 2.1). Hashing first makes the comparison's time independent of
// where the tokens differ and of their lengths.
func bearerMatches(req *http.Request, want [sha256.Size]byte) bool {
	scheme, got, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	h := sha256.Sum256([]byte(got))
	return ok && strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(h[:], want[:]) == 1
}
