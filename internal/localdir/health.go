package localdir

import (
	"time"

	"sphere.software/objstore"
)

// Health reports the origin's state, as the S3 adapter's Health does. A
// directory that Open could create and write to stays usable, short of a
// disk failure that every request reports for itself: the state is
// objstore.OriginOK.
func (r *Remote) Health() objstore.OriginHealth {
	return objstore.OriginHealth{State: objstore.OriginOK, Since: r.opened, Checked: time.Now()}
}
