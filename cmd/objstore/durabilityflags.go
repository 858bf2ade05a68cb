package main

import (
	"flag"
	"fmt"

	"sphere.software/objstore/internal/node"
)

// DurabilityFlags choose how a body becomes durable on this node
// (docs/DESIGN.md, "Group commit of bodies").
type DurabilityFlags struct {
	SmallBodyMax  int64 // --small-body-max ($APP_SMALL_BODY_MAX): bodies up to this size are made durable in the journal; 0 = none
	FsyncEachBody bool  // --fsync-each-body ($APP_FSYNC_EACH_BODY): fsync each body and its directory, no group sync
}

func defaultDurabilityFlags() DurabilityFlags {
	return DurabilityFlags{SmallBodyMax: node.DefaultSmallBodyMax}
}

func (d *DurabilityFlags) register(fs *flag.FlagSet, env map[string]string) {
	int64Flag(fs, &d.SmallBodyMax, "small-body-max", "largest body of a level-0 or write-back PUT made durable with its journal record rather than by a sync of its own file, e.g. 16KiB; 0 = none", env, "APP_SMALL_BODY_MAX")
	boolFlag(fs, &d.FsyncEachBody, "fsync-each-body", "fsync each new body and its directory instead of syncing the files directory's file system once for many bodies (for a files directory that shares its file system with busy writers); also turns --small-body-max off", env, "APP_FSYNC_EACH_BODY")
}

func (d DurabilityFlags) validate() error {
	const maxSmall = 1 << 20
	if d.SmallBodyMax < 0 || d.SmallBodyMax > maxSmall {
		return fmt.Errorf("--small-body-max %d: want a size from 0 (none) to 1MiB", d.SmallBodyMax)
	}
	return nil
}

// nodeSmallBodyMax is the node's Config.SmallBodyMax: 0 there means the
// default, so none is negative.
func (d DurabilityFlags) nodeSmallBodyMax() int64 {
	if d.SmallBodyMax == 0 || d.FsyncEachBody {
		return -1
	}
	return d.SmallBodyMax
}
