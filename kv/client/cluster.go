package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"ordo/internal/bounded"
)

// clusterFile is what FromCluster reads of a cluster file (live.Config):
// the servers' client addresses, TLS and the client token. Other fields
// are the runtime's business and are ignored here.
type clusterFile struct {
	TLS         bool              `yaml:"tls"`
	TLSDir      string            `yaml:"tls_dir"`
	ClientToken string            `yaml:"client_token"`
	Options     map[string]string `yaml:"options"`
	Nodes       []struct {
		ID     int    `yaml:"id"`
		Client string `yaml:"client"`
	} `yaml:"nodes"`
}

// Bounds of the files FromCluster reads.
const (
	maxClusterFile = 1 << 20
	maxPEM         = 64 << 10
	maxToken       = 4 << 10
)

// FromCluster returns a client of the cluster in dir (the directory `ordo
// cluster up` wrote: cluster.yaml, tls/ca.pem, client.token), with the
// default timeouts. Endpoints are the servers' client addresses in id
// order.
func FromCluster(dir string) (*Client, error) {
	cfg, err := ClusterConfig(dir)
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

// readCluster reads the cluster file in dir (and says its path).
func readCluster(dir string) (clusterFile, string, error) {
	var f clusterFile
	path := filepath.Join(dir, "cluster.yaml")
	data, err := bounded.ReadFile(path, maxClusterFile)
	if err != nil {
		return f, path, err
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return f, path, fmt.Errorf("%s: %v", path, err)
	}
	return f, path, nil
}

// ClusterOptions are the servers' protocol options the cluster file in
// dir gives (ordo cluster up -o NAME=VALUE), as written: for a client
// whose behaviour follows the servers' (PBFT's f).
func ClusterOptions(dir string) (map[string]string, error) {
	f, _, err := readCluster(dir)
	return f.Options, err
}

// ClusterConfig is the Config FromCluster uses (to adjust before New).
func ClusterConfig(dir string) (Config, error) {
	var c Config
	f, path, err := readCluster(dir)
	if err != nil {
		return c, err
	}
	for _, n := range f.Nodes {
		if n.Client != "" {
			c.Endpoints = append(c.Endpoints, n.Client)
		}
	}
	if len(c.Endpoints) == 0 {
		return c, fmt.Errorf("%s: no server has a client address (is the cluster's protocol kv?)", path)
	}
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if f.TLS {
		ca := filepath.Join(rel(f.TLSDir), "ca.pem")
		pem, err := bounded.ReadFile(ca, maxPEM)
		if err != nil {
			return c, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("%s holds no certificate", ca)
		}
		c.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}
	}
	if f.ClientToken != "" {
		tok, err := bounded.ReadFile(rel(f.ClientToken), maxToken)
		if err != nil {
			return c, fmt.Errorf("client token: %w", err)
		}
		c.Token = strings.TrimSpace(string(tok))
		if c.Token == "" || strings.ContainsAny(c.Token, " \t\r\n") {
			return c, fmt.Errorf("client token %s: want one token", rel(f.ClientToken))
		}
	}
	return c, nil
}
