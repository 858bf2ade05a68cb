package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"sphere.software/objstore/internal/evict"
	"sphere.software/objstore/internal/node"
)

// CacheFlags are the options of the bounded disk cache.
type CacheFlags struct {
	Policy            string  // --cache-policy ($APP_CACHE_POLICY): s3fifo or lru
	MaxObjectFraction float64 // --cache-max-object-fraction ($APP_CACHE_MAX_OBJECT_FRACTION)
	Admission         string  // --cache-admission ($APP_CACHE_ADMISSION): always or second-miss
	HighWatermark     float64 // --disk-high-watermark ($APP_DISK_HIGH_WATERMARK), without --disk-quota; 0 = off
	LowWatermark      float64 // --disk-low-watermark ($APP_DISK_LOW_WATERMARK)
}

// defaultCacheFlags: S3-FIFO, and without a quota, evict once the files
// dir's file system is 90 % full, down to 85 % (the band keeps eviction
// from running on every write).
func defaultCacheFlags() CacheFlags {
	return CacheFlags{Policy: "s3fifo", MaxObjectFraction: evict.DefaultMaxObjectFraction, Admission: "always",
		HighWatermark: 0.90, LowWatermark: 0.85}
}

func (c *CacheFlags) register(fs *flag.FlagSet, env map[string]string) {
	strFlag(fs, &c.Policy, "cache-policy", "disk cache eviction policy: s3fifo or lru (the reference)", env, "APP_CACHE_POLICY")
	floatFlag(fs, &c.MaxObjectFraction, "cache-max-object-fraction", "objects read through that are larger than this share of the disk cache stream through uncached", env, "APP_CACHE_MAX_OBJECT_FRACTION")
	strFlag(fs, &c.Admission, "cache-admission", "which origin reads are cached: always, or second-miss (only a key missed twice)", env, "APP_CACHE_ADMISSION")
	floatFlag(fs, &c.HighWatermark, "disk-high-watermark", "without --disk-quota: evict once the files dir's file system is fuller than this share; 0 = never evict", env, "APP_DISK_HIGH_WATERMARK")
	floatFlag(fs, &c.LowWatermark, "disk-low-watermark", "without --disk-quota: evict down to this share of the file system", env, "APP_DISK_LOW_WATERMARK")
}

// nodeConfig is the node's CacheConfig for a disk quota (0 = watermarks)
// and a state directory. Zero fields mean their defaults.
func (c CacheFlags) nodeConfig(quota int64, stateDir string) (node.CacheConfig, error) {
	d := defaultCacheFlags()
	if c.Policy == "" {
		c.Policy = d.Policy
	}
	if c.Admission == "" {
		c.Admission = d.Admission
	}
	if c.MaxObjectFraction == 0 {
		c.MaxObjectFraction = d.MaxObjectFraction
	}
	mode, err := evict.ParseMode(c.Policy)
	if err != nil {
		return node.CacheConfig{}, fmt.Errorf("--cache-policy: %w", err)
	}
	var second bool
	switch c.Admission {
	case "always":
	case "second-miss":
		second = true
	default:
		return node.CacheConfig{}, fmt.Errorf("--cache-admission %q: want always or second-miss", c.Admission)
	}
	if c.MaxObjectFraction <= 0 || c.MaxObjectFraction > 1 {
		return node.CacheConfig{}, fmt.Errorf("--cache-max-object-fraction %g: want a share in (0, 1]", c.MaxObjectFraction)
	}
	cc := node.CacheConfig{Capacity: quota, StateFile: filepath.Join(stateDir, "cache.policy"),
		Policy: evict.Options{Mode: mode, MaxObjectFraction: c.MaxObjectFraction, SecondMiss: second}}
	if quota == 0 && c.HighWatermark != 0 {
		cc.HighWatermark, cc.LowWatermark = c.HighWatermark, c.LowWatermark
	}
	if err := cc.Validate(); err != nil {
		return node.CacheConfig{}, errors.New("--disk-high-watermark, --disk-low-watermark: " + err.Error())
	}
	return cc, nil
}

func strFlag(fs *flag.FlagSet, p *string, name, help string, env map[string]string, envName string) {
	fs.StringVar(p, name, *p, help)
	env[name] = envName
}
