package live

import (
	"fmt"
	"net/http"

	"ordo"
)

// bearer is the cluster commands' HTTP transport: it sends the cluster's
// admin token with every request to a node's admin endpoint.
type bearer struct {
	base  *http.Transport
	token func() string
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok := b.token(); tok != "" {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return b.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach base.
func (b *bearer) CloseIdleConnections() { b.base.CloseIdleConnections() }

// ErrStopped is the error of an operation on a cluster none of whose nodes
// runs (Cluster.RequireRunning).
type ErrStopped struct{ Dir string }

func (e ErrStopped) Error() string {
	return fmt.Sprintf("the cluster in %s is stopped: no node runs (start it again from its data with ordo cluster start --dir %s, or a new one there with ordo cluster up --fresh --dir %s, which replaces its data)", e.Dir, e.Dir, e.Dir)
}

// RequireRunning returns ErrStopped when the cluster was stopped (`ordo
// cluster down`) or no node of it runs, so
// that an operation on a stopped cluster fails clearly instead of setting
// faults on nothing.
func (c *Cluster) RequireRunning() error {
	c.mu.Lock()
	stopped := c.State.Stopped
	c.mu.Unlock()
	if stopped || len(c.Running()) == 0 {
		return ErrStopped{Dir: c.Dir}
	}
	return nil
}

// RequireNode returns an error unless node id runs.
func (c *Cluster) RequireNode(id ordo.NodeID) error {
	if err := c.RequireRunning(); err != nil {
		return err
	}
	if !c.alive(id) {
		return fmt.Errorf("node %d is not running (ordo cluster restart %d --dir %s)", id, id, c.Dir)
	}
	return nil
}
