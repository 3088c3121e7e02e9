package sqlite

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// A spill holds the changes of a run that does not fit in memory, in a
// temporary file, until the run has read its source: in rollback-journal
// mode a run cannot write while it reads (its own read lock would block
// its commits, and a long write transaction would block its reading), so
// it writes everything at the end. The file is removed as soon as it is
// created; only its descriptor keeps it, so nothing is left behind, even
// after a crash.
type spill struct {
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	n    int // contacts in the file
	rows int // rows in the file
}

func newSpill() (*spill, error) {
	f, err := os.CreateTemp("", "emailsched-spill-*")
	if err != nil {
		return nil, fmt.Errorf("sqlite: spill file: %w", err)
	}
	os.Remove(f.Name())
	return &spill{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// add appends the changes of one contact: rows holds its deletes, then
// updates, then inserts, as counted in p.
func (s *spill) add(p pending, rows []emailsched.Email) error {
	b := s.buf[:0]
	b = binary.AppendVarint(b, p.contact)
	b = binary.AppendUvarint(b, uint64(p.del))
	b = binary.AppendUvarint(b, uint64(p.upd))
	b = binary.AppendUvarint(b, uint64(p.ins))
	for i := range rows {
		b = appendRow(b, &rows[i])
	}
	s.buf = b
	s.n++
	s.rows += len(rows)
	_, err := s.w.Write(b)
	return err
}

// The fields a write uses (see writer.fill), in this order.
func appendRow(b []byte, e *emailsched.Email) []byte {
	b = binary.AppendVarint(b, e.ID)
	b = appendString(b, string(e.Type))
	b = appendDate(b, e.Date)
	b = appendString(b, string(e.Status))
	b = appendString(b, string(e.SkipReason))
	b = binary.AppendVarint(b, int64(e.Priority))
	b = appendDate(b, e.Event)
	b = binary.AppendVarint(b, e.CampaignInstanceID)
	b = appendString(b, e.EmailTemplate)
	b = appendString(b, e.SMSTemplate)
	b = appendString(b, e.CatchUpNote)
	return appendString(b, e.Metadata)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendDate writes 0 for the zero Date, else 1 + days since 1970 (zigzag).
func appendDate(b []byte, d datecalc.Date) []byte {
	if d.IsZero() {
		return binary.AppendUvarint(b, 0)
	}
	return binary.AppendUvarint(b, 1+zigzag(int64(d.Unix())))
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// reader returns the contacts written so far, in order, in batches of at
// most n contacts; each batch reuses the buffers of the one before.
func (s *spill) reader(n int) (func() (*batchBuf, error), error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("sqlite: spill file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("sqlite: spill file: %w", err)
	}
	r := &spillReader{r: bufio.NewReaderSize(s.f, 1<<20), left: s.n}
	b := &batchBuf{}
	return func() (*batchBuf, error) {
		clear(b.rows)
		b.pend, b.rows = b.pend[:0], b.rows[:0]
		for len(b.pend) < n && r.left > 0 {
			if err := r.contact(b); err != nil {
				return nil, fmt.Errorf("sqlite: reading the spill file back: %w", err)
			}
			r.left--
		}
		return b, nil
	}, nil
}

func (s *spill) close() {
	s.f.Close()
}

// spillReader decodes a spill file; its first error sticks.
type spillReader struct {
	r      *bufio.Reader
	left   int
	str    []byte
	err    error
	intern map[string]string
}

func (r *spillReader) contact(b *batchBuf) error {
	p := pending{contact: r.varint()}
	p.del, p.upd, p.ins = int(r.uvarint()), int(r.uvarint()), int(r.uvarint())
	if r.err != nil {
		return r.err
	}
	b.pend = append(b.pend, p)
	for range p.del + p.upd + p.ins {
		b.rows = append(b.rows, emailsched.Email{})
		e := &b.rows[len(b.rows)-1]
		r.row(e)
		e.ContactID = p.contact
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// row reads the fields appendRow wrote. Types, statuses, reasons,
// templates and notes recur from row to row: they are interned.
func (r *spillReader) row(e *emailsched.Email) {
	e.ID = r.varint()
	e.Type = emailsched.EmailType(r.string(true))
	e.Date = r.date()
	e.Status = emailsched.Status(r.string(true))
	e.SkipReason = emailsched.SkipReason(r.string(true))
	e.Priority = int(r.varint())
	e.Event = r.date()
	e.CampaignInstanceID = r.varint()
	e.EmailTemplate = r.string(true)
	e.SMSTemplate = r.string(true)
	e.CatchUpNote = r.string(true)
	e.Metadata = r.string(false)
}

func (r *spillReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	var v int64
	v, r.err = binary.ReadVarint(r.r)
	return v
}

func (r *spillReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	v, r.err = binary.ReadUvarint(r.r)
	return v
}

// maxSpillString bounds a string read back, against a damaged file;
// maxIntern the strings interned.
const (
	maxSpillString = 1 << 24
	maxIntern      = 4096
)

func (r *spillReader) string(intern bool) string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return ""
	}
	if n > maxSpillString {
		r.err = errors.New("string too long")
		return ""
	}
	if cap(r.str) < int(n) {
		r.str = make([]byte, n)
	}
	b := r.str[:n]
	if _, r.err = io.ReadFull(r.r, b); r.err != nil {
		return ""
	}
	if !intern {
		return string(b)
	}
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.intern == nil {
		r.intern = make(map[string]string)
	}
	if len(r.intern) < maxIntern {
		r.intern[s] = s
	}
	return s
}

func (r *spillReader) date() datecalc.Date {
	u := r.uvarint()
	if r.err != nil || u == 0 {
		return datecalc.Date{}
	}
	return datecalc.FromUnix(int(unzigzag(u - 1)))
}
