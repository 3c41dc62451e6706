package sim

// RecordFault records a cluster-wide fault event named name with attrs
// (key, value pairs) in the trace, as the simulator records its own
// (partition, heal): for a fault resolved by its caller at run time, such
// as a scenario's `pause: leader`, which names the node it struck (or that
// it struck none). Nothing is recorded when the run is not traced.
func (s *Sim) RecordFault(name string, attrs ...any) { s.emitFault(name, attrs...) }
