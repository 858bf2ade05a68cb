package savings

import (
	"fmt"
	"math"
)

// Prices are what the origin charges, in US dollars.
type Prices struct {
	// EgressPerGB is the price of one GB (2^30 bytes, as AWS bills it)
	// sent out of the origin; 0 means free.
	EgressPerGB float64
	// GetPer1000 is the price of 1,000 GET requests; 0 means free.
	GetPer1000 float64
}

// The defaults are AWS's public list prices for S3 in us-east-1
// (https://aws.amazon.com/s3/pricing/): data transfer out to the internet,
// first tier (up to 10 TB a month), $0.09 per GB; S3 Standard GET and
// SELECT requests, $0.0004 per 1,000.
const (
	DefaultEgressPerGB = 0.09
	DefaultGetPer1000  = 0.0004
)

// DefaultPrices returns AWS's list prices (see DefaultEgressPerGB).
func DefaultPrices() Prices {
	return Prices{EgressPerGB: DefaultEgressPerGB, GetPer1000: DefaultGetPer1000}
}

// Validate reports a price that is negative or not a number.
func (p Prices) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"egress per GB", p.EgressPerGB}, {"GET per 1000", p.GetPer1000}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("savings: price %s %v: want a finite number ≥ 0", f.name, f.v)
		}
	}
	return nil
}

// USD is the price of gets GET requests that moved bytes bytes.
func (p Prices) USD(gets, bytes int64) float64 {
	return float64(bytes)/(1<<30)*p.EgressPerGB + float64(gets)/1000*p.GetPer1000
}
