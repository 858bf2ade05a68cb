package node

import (
	"testing"
	"time"

	"sphere.software/objstore"
)

func TestDecideUpload(t *testing.T) {
	ours := objstore.Version{HLC: 100, Node: "b"}
	at := func(hlc uint64, node string) objstore.Record {
		return objstore.Record{Version: objstore.Version{HLC: hlc, Node: node}}
	}
	foreign := objstore.Record{Version: objstore.ForeignVersion(time.Unix(1<<40, 0))}
	tests := []struct {
		name  string
		got   objstore.Record
		found bool
		want  originStep
	}{
		{"nothing in the origin", objstore.Record{}, false, stepPut},
		{"older version", at(99, "z"), true, stepPut},
		{"same HLC, lower node", at(100, "a"), true, stepPut},
		{"this very version", at(100, "b"), true, stepLanded},
		{"same HLC, higher node", at(100, "c"), true, stepSuperseded},
		{"newer version", at(101, "a"), true, stepSuperseded},
		{"foreign object, even with a later time", foreign, true, stepPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decideUpload(ours, tt.got, tt.found); got != tt.want {
				t.Errorf("decideUpload(%v, %v, %v) = %d, want %d", ours, tt.got.Version, tt.found, got, tt.want)
			}
		})
	}
}
