package scenario

import (
	"ordo"
	"ordo/sim"
)

// The disk model of a scenario file (sim.Disk):
//
//	disk:
//	  sync_latency: 2ms    # one fsync; the node waits, its sends are held
//	  fail_sync: 0.001     # per fsync: EIO, the node stops (fail-stop)
//	  full: 0.001          # per fsync: ENOSPC, fail-stop
//	  tear: 0.5            # per crash with an fsync in flight: a torn batch
//	  corrupt_read: 0.01   # per restart: recovery reads a corrupt block, fail-stop
//
// and the scripted storage faults, each naming a node:
//
//	- {at: 2s, fail_sync: 3}     # its next fsync fails
//	- {at: 2s, disk_full: 3}     # its next fsync finds the disk full
//	- {at: 2s, corrupt_read: 3}  # it reads a corrupt block (now, or at its next restart)
//	- {at: 2s, crash_torn: 3}    # it crashes, tearing the batch in flight
//
// A storage fault needs the disk model on (a disk: section).

// diskFields are the fields of the disk: section.
var diskFields = []string{"sync_latency", "fail_sync", "full", "tear", "corrupt_read"}

// DiskFaultKinds are the scripted storage fault kinds.
var DiskFaultKinds = []string{"corrupt_read", "crash_torn", "disk_full", "fail_sync"}

// diskModel reads the disk: section, if any, into sc.Disk.
func (p *parser) diskModel(sc *Scenario, fs map[string]entry) error {
	e, ok := fs["disk"]
	if !ok {
		return nil
	}
	ps, err := p.pairs(e.val, "disk")
	if err != nil {
		return err
	}
	for _, x := range ps {
		f := "disk." + x.key.Value
		switch x.key.Value {
		case "sync_latency":
			d, err := p.duration(x.val, f, false)
			if err != nil {
				return err
			}
			if d > sim.MaxSyncLatency {
				return p.errf(x.val, f, "an fsync of %v is too slow (at most %v)", d, sim.MaxSyncLatency)
			}
			sc.Disk.SyncLatency = d
		case "fail_sync", "full", "tear", "corrupt_read":
			v, err := p.prob(x.val, f)
			if err != nil {
				return err
			}
			switch x.key.Value {
			case "fail_sync":
				sc.Disk.FailSync = v
			case "full":
				sc.Disk.Full = v
			case "tear":
				sc.Disk.Tear = v
			case "corrupt_read":
				sc.Disk.CorruptRead = v
			}
		default:
			return p.errf(x.key, f, "unknown disk field (valid: %v)", diskFields)
		}
	}
	if !sc.Disk.On() {
		// A disk: section that changes nothing would leave a storage
		// fault without a disk: say so rather than run the old model.
		return p.errf(e.key, "disk", "the disk model is on only with a sync_latency above 0 or a fault probability above 0")
	}
	return nil
}

// diskStrike returns the action of a scripted storage fault on a node.
func diskStrike(kind string) func(*sim.Sim, ordo.NodeID) error {
	switch kind {
	case "fail_sync":
		return func(s *sim.Sim, id ordo.NodeID) error { return s.FailSync(id) }
	case "disk_full":
		return func(s *sim.Sim, id ordo.NodeID) error { return s.FillDisk(id) }
	case "corrupt_read":
		return func(s *sim.Sim, id ordo.NodeID) error { return s.CorruptRead(id) }
	case "crash_torn":
		return func(s *sim.Sim, id ordo.NodeID) error { return s.CrashTorn(id) }
	}
	panic("scenario: not a disk fault: " + kind)
}
