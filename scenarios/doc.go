// Package scenarios holds ordo's scenario files: one YAML file per figure,
// fault and exercise of the chapter that runs in the simulator (sections 1
// to 6). Its tests load every file, run it and fail if an `expect` is unmet
// or a run is not reproducible, so a new file is asserted by being added.
package scenarios
