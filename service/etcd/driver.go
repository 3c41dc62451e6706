package etcd

import (
	"context"
	"errors"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Driver is a started cluster with a client that sends every put to the
// current leader and follows the leader when it changes: what ordo's own
// client does, so a benchmark compares the servers, not an extra hop (a
// clientv3 client over all endpoints balances round-robin, and followers
// forward a proposal to the leader). It has the shape of kv/bench.Driver.
type Driver struct {
	*Cluster

	mu      sync.Mutex
	clients []*clientv3.Client // one per member, pinned to its endpoint; nil until used
	leader  int                // member the puts go to
	epoch   uint64             // bumped on every re-pin, so one failure re-pins once
}

// NewDriver starts a cluster (Start) and pins a client to its leader.
func NewDriver(ctx context.Context, opts Options) (*Driver, error) {
	c, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	d := &Driver{Cluster: c, clients: make([]*clientv3.Client, c.N())}
	if err := d.repin(ctx, 0); err != nil {
		c.Stop()
		return nil, err
	}
	return d, nil
}

// Put writes key=value through the leader; it returns nil once etcd has
// acknowledged the put (committed by a majority, each of which fsynced
// its WAL). On failure the next put goes to the then leader.
func (d *Driver) Put(ctx context.Context, key string, value []byte) error {
	d.mu.Lock()
	cli, epoch := d.clients[d.leader], d.epoch
	d.mu.Unlock()
	_, err := cli.Put(ctx, key, string(value))
	if err != nil {
		if rerr := d.repin(ctx, epoch); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// repin points the puts at the current leader, unless another put has
// done so since epoch.
func (d *Driver) repin(ctx context.Context, epoch uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.epoch != epoch {
		return nil
	}
	i, err := d.Leader(ctx)
	if err != nil {
		return err
	}
	if d.clients[i] == nil {
		if d.clients[i], err = d.Client(d.Endpoints()[i]); err != nil {
			return err
		}
	}
	d.leader = i
	d.epoch++
	return nil
}

// Close closes the clients and stops the cluster.
func (d *Driver) Close() error {
	d.mu.Lock()
	for i, c := range d.clients {
		if c != nil {
			c.Close()
			d.clients[i] = nil
		}
	}
	d.mu.Unlock()
	return d.Stop()
}
