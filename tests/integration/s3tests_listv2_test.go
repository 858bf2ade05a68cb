package integration

import (
	"net/http"
	"testing"
)

// TestS3TestsListV2 mirrors s3-tests' ListObjectsV2 cases
// (test_bucket_listv2_*): prefixes, delimiters, pages, tokens, encoding.
func TestS3TestsListV2(t *testing.T) {
	s3tRun(t, s3tListV2Cases())
}

// s3tListPages walks a prefix/delimiter listing page by page with
// max-keys, as s3-tests' validate_bucket_listv2 chains do: each step names
// the keys and prefixes of one page and whether it is truncated.
type s3tPage struct {
	keys, prefixes []string
	truncated      bool
}

func s3tWalk(t *testing.T, tg *s3tTarget, bucket, prefix, delim, maxKeys string, pages []s3tPage) {
	t.Helper()
	token := ""
	for i, p := range pages {
		params := []string{"prefix", prefix, "delimiter", delim, "max-keys", maxKeys}
		if i == 0 {
			params = append(params, "start-after", "")
		} else {
			params = append(params, "continuation-token", token)
		}
		l := tg.list(t, bucket, params...)
		what := "page " + string(rune('1'+i)) + " prefix " + prefix + " max-keys " + maxKeys
		wantList(t, tg, l, p.keys, p.prefixes, what)
		if l.IsTruncated != p.truncated {
			t.Errorf("%s %s: IsTruncated %v, want %v", tg.name, what, l.IsTruncated, p.truncated)
		}
		if !p.truncated && l.NextContinuationToken != nil {
			t.Errorf("%s %s: NextContinuationToken %q on the last page", tg.name, what, *l.NextContinuationToken)
		}
		if p.truncated {
			if l.NextContinuationToken == nil {
				t.Fatalf("%s %s: truncated without a NextContinuationToken", tg.name, what)
			}
			token = *l.NextContinuationToken
		}
	}
}

// s3tDelimCase is the shape of the test_bucket_listv2_delimiter_{alt,
// percentage,whitespace,dot} family: four keys, a one-character delimiter.
func s3tDelimCase(mirrors string, keys []string, delim string, wantKeys, wantPrefixes []string) s3tCase {
	return s3tCase{mirrors: mirrors, run: func(t *testing.T, tg *s3tTarget, b string) {
		s3tPutKeys(t, tg, b, keys...)
		l := tg.list(t, b, "delimiter", delim)
		if strp(l.Delimiter) != delim {
			t.Errorf("%s: Delimiter %q, want %q", tg.name, strp(l.Delimiter), delim)
		}
		wantList(t, tg, l, wantKeys, wantPrefixes, "delimiter "+delim)
	}}
}

// s3tPrefixCase is test_bucket_listv2_prefix_* and
// test_bucket_listv2_prefix_delimiter_*: keys, a prefix and an optional
// delimiter, and what the one page holds; the prefix is echoed.
func s3tPrefixCase(mirrors string, keys []string, prefix, delim string, wantKeys, wantPrefixes []string) s3tCase {
	return s3tCase{mirrors: mirrors, run: func(t *testing.T, tg *s3tTarget, b string) {
		s3tPutKeys(t, tg, b, keys...)
		params := []string{"prefix", prefix}
		if delim != "" {
			params = append(params, "delimiter", delim)
		}
		l := tg.list(t, b, params...)
		if strp(l.Prefix) != prefix {
			t.Errorf("%s: Prefix %q, want %q", tg.name, strp(l.Prefix), prefix)
		}
		if delim != "" && strp(l.Delimiter) != delim {
			t.Errorf("%s: Delimiter %q, want %q", tg.name, strp(l.Delimiter), delim)
		}
		wantList(t, tg, l, wantKeys, wantPrefixes, "prefix "+prefix+" delimiter "+delim)
	}}
}

// Why the origin-limited cases are so: versitygw's posix backend maps keys
// to files and directories.
const (
	s3tOriginParentIsFile = "posix: a key a/b/c needs a directory a/b, which cannot exist beside an object a/b; versitygw answers 409 ObjectParentIsFile"
	s3tOriginDirData      = "posix: a key ending in / is a directory, which holds no bytes; versitygw answers 400 DirectoryObjectContainsData to a body under it"
)

func s3tListV2Cases() []s3tCase {
	four := []string{"bar", "baz", "foo", "quxx"}
	abc := []string{"bar", "baz", "cab", "foo"}
	fooQuux := []string{"foo/bar", "foo/baz", "quux"}
	return []s3tCase{
		{mirrors: "test_bucket_listv2_many", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, "foo", "bar", "baz")
			l := tg.list(t, b, "max-keys", "2")
			wantList(t, tg, l, []string{"bar", "baz"}, []string{}, "max-keys 2")
			if !l.IsTruncated {
				t.Errorf("%s max-keys 2 of 3: not truncated", tg.name)
			}
			l = tg.list(t, b, "start-after", "baz", "max-keys", "2")
			wantList(t, tg, l, []string{"foo"}, []string{}, "start-after baz")
			if l.IsTruncated {
				t.Errorf("%s start-after baz: truncated", tg.name)
			}
		}},
		{mirrors: "test_basic_key_count", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, "0", "1", "2", "3", "4")
			if l := tg.list(t, b); l.KeyCount == nil || *l.KeyCount != 5 {
				t.Errorf("%s: KeyCount %v, want 5", tg.name, l.KeyCount)
			}
		}},
		{mirrors: "test_bucket_listv2_delimiter_basic", origin: s3tOriginParentIsFile, run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, "foo/bar", "quux/thud", "asdf")
			r := tg.do(t, http.MethodPut, s3tPath(b, "foo/bar/xyzzy"), []byte("foo/bar/xyzzy"))
			tg.wantErr(t, r, http.StatusConflict, "ObjectParentIsFile", "PUT foo/bar/xyzzy beside the object foo/bar")
			l := tg.list(t, b, "delimiter", "/")
			if strp(l.Delimiter) != "/" {
				t.Errorf("%s: Delimiter %q, want /", tg.name, strp(l.Delimiter))
			}
			wantList(t, tg, l, []string{"asdf"}, []string{"foo/", "quux/"}, "delimiter /")
			if l.KeyCount == nil || *l.KeyCount != 3 {
				t.Errorf("%s: KeyCount %v, want 3 (keys and prefixes)", tg.name, l.KeyCount)
			}
		}},
		{mirrors: "test_bucket_listv2_encoding_basic", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, "foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b")
			l := tg.list(t, b, "delimiter", "/", "encoding-type", "url")
			wantList(t, tg, l, []string{"asdf%2Bb"}, []string{"foo%2B1/", "foo/", "quux%20ab/"}, "encoding-type url")
		}},
		{mirrors: "test_bucket_listv2_delimiter_prefix", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, "asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla")
			none := []string{}
			s3tWalk(t, tg, b, "", "/", "1", []s3tPage{{[]string{"asdf"}, none, true}, {none, []string{"boo/"}, true}, {none, []string{"cquux/"}, false}})
			s3tWalk(t, tg, b, "", "/", "2", []s3tPage{{[]string{"asdf"}, []string{"boo/"}, true}, {none, []string{"cquux/"}, false}})
			s3tWalk(t, tg, b, "boo/", "/", "1", []s3tPage{{[]string{"boo/bar"}, none, true}, {none, []string{"boo/baz/"}, false}})
			s3tWalk(t, tg, b, "boo/", "/", "2", []s3tPage{{[]string{"boo/bar"}, []string{"boo/baz/"}, false}})
		}},
		{mirrors: "test_bucket_listv2_delimiter_prefix_ends_with_delimiter", origin: s3tOriginDirData, run: func(t *testing.T, tg *s3tTarget, b string) {
			r := tg.do(t, http.MethodPut, s3tPath(b, "asdf/"), []byte("asdf/"))
			tg.wantErr(t, r, http.StatusBadRequest, "DirectoryObjectContainsData", "PUT asdf/ with a body")
			tg.put(t, b, "asdf/", nil) // the directory object it can hold: empty
			l := tg.list(t, b, "prefix", "asdf/", "delimiter", "/")
			wantList(t, tg, l, []string{"asdf/"}, []string{}, "prefix asdf/ delimiter /")
		}},
		s3tDelimCase("test_bucket_listv2_delimiter_alt", abc, "a", []string{"foo"}, []string{"ba", "ca"}),
		{mirrors: "test_bucket_listv2_delimiter_prefix_underscore", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, "_obj1_", "_under1/bar", "_under1/baz/xyzzy", "_under2/thud", "_under2/bla")
			none := []string{}
			s3tWalk(t, tg, b, "", "/", "1", []s3tPage{{[]string{"_obj1_"}, none, true}, {none, []string{"_under1/"}, true}, {none, []string{"_under2/"}, false}})
			s3tWalk(t, tg, b, "", "/", "2", []s3tPage{{[]string{"_obj1_"}, []string{"_under1/"}, true}, {none, []string{"_under2/"}, false}})
			s3tWalk(t, tg, b, "_under1/", "/", "1", []s3tPage{{[]string{"_under1/bar"}, none, true}, {none, []string{"_under1/baz/"}, false}})
			s3tWalk(t, tg, b, "_under1/", "/", "2", []s3tPage{{[]string{"_under1/bar"}, []string{"_under1/baz/"}, false}})
		}},
		s3tDelimCase("test_bucket_listv2_delimiter_percentage", []string{"b%ar", "b%az", "c%ab", "foo"}, "%", []string{"foo"}, []string{"b%", "c%"}),
		s3tDelimCase("test_bucket_listv2_delimiter_whitespace", []string{"b ar", "b az", "c ab", "foo"}, " ", []string{"foo"}, []string{"b ", "c "}),
		s3tDelimCase("test_bucket_listv2_delimiter_dot", []string{"b.ar", "b.az", "c.ab", "foo"}, ".", []string{"foo"}, []string{"b.", "c."}),
		s3tDelimCase("test_bucket_listv2_delimiter_unreadable", abc, "\n", abc, []string{}),
		{mirrors: "test_bucket_listv2_delimiter_empty", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, abc...)
			l := tg.list(t, b, "delimiter", "")
			if l.Delimiter != nil {
				t.Errorf("%s: an empty delimiter is echoed as %q, want no Delimiter element", tg.name, *l.Delimiter)
			}
			wantList(t, tg, l, abc, []string{}, "empty delimiter")
		}},
		{mirrors: "test_bucket_listv2_delimiter_none", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, abc...)
			l := tg.list(t, b)
			if l.Delimiter != nil {
				t.Errorf("%s: Delimiter %q in a listing that named none", tg.name, *l.Delimiter)
			}
			wantList(t, tg, l, abc, []string{}, "no delimiter")
		}},
		{mirrors: "test_bucket_listv2_fetchowner_notempty", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, fooQuux...)
			if l := tg.list(t, b, "fetch-owner", "true"); len(l.Contents) == 0 || l.Contents[0].Owner == nil {
				t.Errorf("%s fetch-owner=true: no Owner in the first entry", tg.name)
			}
		}},
		{mirrors: "test_bucket_listv2_fetchowner_defaultempty", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, fooQuux...)
			if l := tg.list(t, b); len(l.Contents) == 0 || l.Contents[0].Owner != nil {
				t.Errorf("%s without fetch-owner: want entries and no Owner, got %d entries", tg.name, len(l.Contents))
			}
		}},
		{mirrors: "test_bucket_listv2_fetchowner_empty", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, fooQuux...)
			if l := tg.list(t, b, "fetch-owner", "false"); len(l.Contents) == 0 || l.Contents[0].Owner != nil {
				t.Errorf("%s fetch-owner=false: want entries and no Owner, got %d entries", tg.name, len(l.Contents))
			}
		}},
		s3tDelimCase("test_bucket_listv2_delimiter_not_exist", abc, "/", abc, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_basic", fooQuux, "foo/", "", []string{"foo/bar", "foo/baz"}, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_alt", []string{"bar", "baz", "foo"}, "ba", "", []string{"bar", "baz"}, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_empty", fooQuux, "", "", fooQuux, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_not_exist", fooQuux, "d", "", []string{}, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_unreadable", fooQuux, "\n", "", []string{}, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_delimiter_basic", []string{"foo/bar", "foo/baz/xyzzy", "quux/thud", "asdf"}, "foo/", "/", []string{"foo/bar"}, []string{"foo/baz/"}),
		s3tPrefixCase("test_bucket_listv2_prefix_delimiter_alt", []string{"bar", "bazar", "cab", "foo"}, "ba", "a", []string{"bar"}, []string{"baza"}),
		s3tPrefixCase("test_bucket_listv2_prefix_delimiter_prefix_not_exist", []string{"b/a/r", "b/a/c", "b/a/g", "g"}, "/", "d", []string{}, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_delimiter_delimiter_not_exist", []string{"b/a/c", "b/a/g", "b/a/r", "g"}, "b", "z", []string{"b/a/c", "b/a/g", "b/a/r"}, []string{}),
		s3tPrefixCase("test_bucket_listv2_prefix_delimiter_prefix_delimiter_not_exist", []string{"b/a/c", "b/a/g", "b/a/r", "g"}, "y", "z", []string{}, []string{}),
		{mirrors: "test_bucket_listv2_maxkeys_one", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b, "max-keys", "1")
			wantList(t, tg, l, four[:1], []string{}, "max-keys 1")
			if !l.IsTruncated {
				t.Errorf("%s max-keys 1: not truncated", tg.name)
			}
			l = tg.list(t, b, "start-after", four[0])
			wantList(t, tg, l, four[1:], []string{}, "start-after "+four[0])
			if l.IsTruncated {
				t.Errorf("%s start-after %s: truncated", tg.name, four[0])
			}
		}},
		{mirrors: "test_bucket_listv2_maxkeys_zero", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b, "max-keys", "0")
			wantList(t, tg, l, []string{}, []string{}, "max-keys 0")
			if l.IsTruncated {
				t.Errorf("%s max-keys 0: truncated, want false", tg.name)
			}
		}},
		{mirrors: "test_bucket_listv2_maxkeys_none", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b)
			wantList(t, tg, l, four, []string{}, "no max-keys")
			if l.IsTruncated || l.MaxKeys == nil || *l.MaxKeys != 1000 {
				t.Errorf("%s: IsTruncated %v MaxKeys %v, want false and 1000", tg.name, l.IsTruncated, l.MaxKeys)
			}
		}},
		{mirrors: "test_bucket_list_maxkeys_invalid", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			r := tg.do(t, http.MethodGet, "/"+b+"?list-type=2&max-keys=blah", nil)
			tg.wantErr(t, r, http.StatusBadRequest, "InvalidArgument", "max-keys=blah")
		}},
		{mirrors: "test_bucket_listv2_continuationtoken_empty", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b, "continuation-token", "")
			if l.ContinuationToken == nil || *l.ContinuationToken != "" {
				t.Errorf("%s: ContinuationToken %q, want an empty element", tg.name, strp(l.ContinuationToken))
			}
			wantList(t, tg, l, four, []string{}, "empty continuation-token")
			if l.IsTruncated {
				t.Errorf("%s: truncated", tg.name)
			}
		}},
		{mirrors: "test_bucket_listv2_continuationtoken", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			first := tg.list(t, b, "max-keys", "1")
			if first.NextContinuationToken == nil {
				t.Fatalf("%s max-keys 1: no NextContinuationToken", tg.name)
			}
			tok := *first.NextContinuationToken
			l := tg.list(t, b, "continuation-token", tok)
			if strp(l.ContinuationToken) != tok || l.IsTruncated {
				t.Errorf("%s: ContinuationToken %q IsTruncated %v, want %q false", tg.name, strp(l.ContinuationToken), l.IsTruncated, tok)
			}
			wantList(t, tg, l, four[1:], []string{}, "continuation-token")
		}},
		{mirrors: "test_bucket_listv2_both_continuationtoken_startafter", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			first := tg.list(t, b, "start-after", "bar", "max-keys", "1")
			if first.NextContinuationToken == nil {
				t.Fatalf("%s start-after bar max-keys 1: no NextContinuationToken", tg.name)
			}
			tok := *first.NextContinuationToken
			l := tg.list(t, b, "start-after", "bar", "continuation-token", tok)
			if strp(l.ContinuationToken) != tok || strp(l.StartAfter) != "bar" || l.IsTruncated {
				t.Errorf("%s: ContinuationToken %q StartAfter %q IsTruncated %v", tg.name, strp(l.ContinuationToken), strp(l.StartAfter), l.IsTruncated)
			}
			wantList(t, tg, l, []string{"foo", "quxx"}, []string{}, "token after start-after")
		}},
		{mirrors: "test_bucket_listv2_startafter_unreadable", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b, "start-after", "\n")
			if strp(l.StartAfter) != "\n" || l.IsTruncated {
				t.Errorf("%s: StartAfter %q IsTruncated %v", tg.name, strp(l.StartAfter), l.IsTruncated)
			}
			wantList(t, tg, l, four, []string{}, "start-after newline")
		}},
		{mirrors: "test_bucket_listv2_startafter_not_in_list", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b, "start-after", "blah")
			if strp(l.StartAfter) != "blah" {
				t.Errorf("%s: StartAfter %q", tg.name, strp(l.StartAfter))
			}
			wantList(t, tg, l, []string{"foo", "quxx"}, []string{}, "start-after blah")
		}},
		{mirrors: "test_bucket_listv2_startafter_after_list", run: func(t *testing.T, tg *s3tTarget, b string) {
			s3tPutKeys(t, tg, b, four...)
			l := tg.list(t, b, "start-after", "zzz")
			if strp(l.StartAfter) != "zzz" || l.IsTruncated {
				t.Errorf("%s: StartAfter %q IsTruncated %v", tg.name, strp(l.StartAfter), l.IsTruncated)
			}
			wantList(t, tg, l, []string{}, []string{}, "start-after zzz")
		}},
		{mirrors: "test_bucketv2_notexist", run: func(t *testing.T, tg *s3tTarget, b string) {
			r := tg.do(t, http.MethodGet, "/"+b+"-missing?list-type=2", nil)
			tg.wantErr(t, r, http.StatusNotFound, "NoSuchBucket", "ListObjectsV2 of a missing bucket")
		}},
		{mirrors: "test_multi_objectv2_delete", run: func(t *testing.T, tg *s3tTarget, b string) {
			keys := []string{"key0", "key1", "key2"}
			s3tPutKeys(t, tg, b, keys...)
			if l := tg.list(t, b); len(l.Contents) != 3 {
				t.Fatalf("%s: %d keys listed, want 3", tg.name, len(l.Contents))
			}
			for round := range 2 { // the second round deletes keys that are gone: still Deleted
				s3tDeleteObjects(t, tg, b, keys, 3)
				if l := tg.list(t, b); len(l.Contents) != 0 {
					t.Errorf("%s round %d: %q left after DeleteObjects", tg.name, round, l.keys())
				}
			}
		}},
	}
}
