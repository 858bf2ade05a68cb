package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/cluster"
	"sphere.software/objstore/internal/health"
)

// originRecheckAge is how old the origin's state may be when /readyz reads
// it: an older one makes the origin's probe look again (in the
// background), so readiness follows an origin that stopped within a probe
// or two, where the probe alone looks every 5 minutes while the origin is
// fine.
const originRecheckAge = 5 * time.Second

// healthChecks is what /readyz requires of a node: its journal answers,
// it has joined its cluster, and its origin can be used (or the operator
// said to serve without it: --ready-without-origin).
func healthChecks(cfg Config, j counter, cl *cluster.Cluster, remote origin) *health.Handler {
	return health.New(
		health.Check{Name: "journal", Run: func(ctx context.Context) health.Result { return journalCheck(ctx, j) }},
		health.Check{Name: "cluster", Run: func(context.Context) health.Result {
			return clusterCheck(cl.Joined(), len(cfg.Nodes) == 0, cl.Members())
		}},
		health.Check{Name: "origin", Run: func(context.Context) health.Result {
			return originCheck(remote, cfg.Ops.ReadyWithoutOrigin, time.Now())
		}},
	)
}

// counter is what the journal check needs of the journal.
type counter interface {
	Counts(context.Context) (objstore.Counts, error)
}

// journalCheck reads the journal's counts: one read transaction, which
// fails once the journal is closed or its file cannot be read.
func journalCheck(ctx context.Context, j counter) health.Result {
	c, err := j.Counts(ctx)
	if err != nil {
		return health.Result{Status: health.Fail, Detail: err.Error()}
	}
	return health.Result{Status: health.OK, Detail: fmt.Sprintf("open, %d objects", c.Objects)}
}

// clusterCheck fails until the node has joined (cluster.Cluster.Joined),
// and is degraded while a member is down: the node serves, but what only
// that member holds is not readable.
func clusterCheck(joined, solo bool, members []objstore.Member) health.Result {
	alive := 0
	var down []string
	for _, m := range members {
		switch m.State {
		case cluster.StateAlive:
			alive++
		case cluster.StateLeft: // left cleanly: not a failure
		default:
			down = append(down, m.ID+" "+m.State)
		}
	}
	count := fmt.Sprintf("%d of %d members alive", alive, len(members))
	switch {
	case !joined:
		return health.Result{Status: health.Fail, Detail: "not joined: no member given with -N reached yet; " + count}
	case len(down) > 0:
		return health.Result{Status: health.Degraded, Detail: count + "; down: " + strings.Join(down, ", ")}
	case solo:
		return health.Result{Status: health.OK, Detail: "no -N given: started alone; " + count}
	}
	return health.Result{Status: health.OK, Detail: "joined; " + count}
}

// originCheck reads the origin's state as its probe last found it (see
// internal/s3, "Diagnosing the origin") and asks for a fresh look when
// that is old. A bad origin fails readiness, unless readyWithout, which
// makes it degraded.
func originCheck(remote origin, readyWithout bool, now time.Time) health.Result {
	if r, ok := remote.(interface{ Recheck(time.Duration) }); ok {
		r.Recheck(originRecheckAge)
	}
	h, ok := remote.(interface{ Health() objstore.OriginHealth })
	if !ok {
		return health.Result{Status: health.OK, Detail: remote.String()}
	}
	st := h.Health()
	checked := fmt.Sprintf("checked %s ago", now.Sub(st.Checked).Round(time.Second))
	if st.State == objstore.OriginOK {
		return health.Result{Status: health.OK, Detail: remote.String() + "; " + checked}
	}
	detail := fmt.Sprintf("%s since %s (%s): %s", st.State, st.Since.UTC().Format(time.RFC3339), checked, st.Error)
	if readyWithout {
		return health.Result{Status: health.Degraded, Detail: detail + "; serving what the cluster holds (--ready-without-origin)"}
	}
	return health.Result{Status: health.Fail, Detail: detail}
}
