package models

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// AidDataReader reads an open aid-data file (an IATI activity file) as a stream, one activity at
// a time, each already mapped to an ExternalActivity, so that the import use case never knows the
// file format. The IATI adapter (adapters/iati) implements it, with its reading limits and its
// mapping of sectors and words to capabilities.
type AidDataReader interface {
	// Open starts reading one file from r; nothing is read until the first call to Next.
	Open(r io.Reader) AidDataFile
}

// AidDataFile is one file being read.
type AidDataFile interface {
	// Next returns the next activity, or io.EOF after the last one. A file that cannot be
	// imported (not XML, a DTD, not an activity file of a supported version, a malformed date or
	// amount, a reading limit broken) is an *AidDataError; other errors (the body's reader
	// failing, its size limit) are returned as they are. After an error the file must not be
	// read again.
	Next() (*AidDataActivity, error)
	// Version is the file's version of the standard (such as 2.03), known after the first call
	// to Next.
	Version() string
}

// AidDataActivity is one activity of a file as the reader mapped it.
type AidDataActivity struct {
	// Index is the activity's 0-based position in the file.
	Index int
	// Activity is the activity in capmatch's terms: its Key, narratives, dates, recipient
	// countries and regions (with their UN M49 equivalents), sectors, money and the capabilities
	// it maps to (none when it maps to none). The caller sets the batch, row, importer and
	// version.
	Activity *ExternalActivity
	// Notes are what is worth reporting about the activity that did not stop the import, in
	// file order.
	Notes []AidDataNote
	// CyberTerms are the words that say the activity is about cyber security, found in its
	// title or description (to tell why an activity about cyber security maps to no
	// capability).
	CyberTerms []string
}

// AidDataNote is something worth reporting about an activity that did not stop the import: a
// stable code (the reader's; adapters/iati lists them) and its arguments.
type AidDataNote struct {
	Code string `json:"code"`
	Args Args   `json:"args,omitempty"`
}

// AidDataError says why a file cannot be imported: a stable code with its arguments, and where
// (Activity is the 0-based position of the activity, -1 for the file as a whole; Identifier
// its identifier when it was read). Kind is ErrMalformed (not XML, a DTD), ErrInvalid (XML,
// but not a file that can be imported) or ErrTooLarge (a reading limit), so that errors.Is maps
// it to a status.
type AidDataError struct {
	Code       string
	Args       Args
	Activity   int
	Identifier string
	Kind       error
}

// Error implements error.
func (e *AidDataError) Error() string {
	where := "file"
	if e.Activity >= 0 {
		where = fmt.Sprintf("activity %d", e.Activity)
		if e.Identifier != "" {
			where += " (" + e.Identifier + ")"
		}
	}
	msg := "aid data: " + where + ": " + e.Code
	if len(e.Args) > 0 {
		keys := make([]string, 0, len(e.Args))
		for k := range e.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + e.Args[k].Str()
		}
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	return msg
}

// Unwrap lets errors.Is match Kind.
func (e *AidDataError) Unwrap() error { return e.Kind }
