package ledger

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strings"
	"unicode"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// oleMagic starts the compound files of older office documents (.doc, .xls, .ppt).
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// ContentType returns the type of an evidence file judged by its content, never by its name:
// PDF, PNG, JPEG, GIF or WebP images, office documents (OOXML .docx/.xlsx/.pptx and ODF, which
// are zip archives with their own manifest; older .doc/.xls/.ppt compound files); "" for
// anything else.
func ContentType(content []byte) string {
	switch t := http.DetectContentType(content); t {
	case "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp":
		return t
	case "application/zip":
		zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
		if err != nil {
			return ""
		}
		for _, f := range zr.File {
			switch f.Name {
			case "[Content_Types].xml":
				return "application/vnd.openxmlformats-officedocument"
			case "mimetype":
				return "application/vnd.oasis.opendocument"
			}
		}
		return ""
	}
	if bytes.HasPrefix(content, oleMagic) {
		return "application/x-ole-storage"
	}
	return ""
}

// UploadEvidence stores an evidence file for a case of the principal's subtree that is not
// closed or resolved: over Config.MaxFileBytes it is duty.ErrTooLarge; a content of no allowed type
// (ContentType), an empty file or a bad name duty.ErrInvalid. The file is stored with its
// SHA-256 under a new id and never overwritten.
func (s *Service) UploadEvidence(ctx context.Context, p duty.Principal, caseID, name string, content []byte) (*duty.EvidenceFile, error) {
	c, err := s.Case(ctx, p, caseID)
	if err != nil {
		return nil, err
	}
	if c.Done() {
		return nil, fmt.Errorf("case %s is %s: %w: files are added only to cases still worked on", caseID, c.State, duty.ErrConflict)
	}
	if int64(len(content)) > s.cfg.MaxFileBytes {
		return nil, fmt.Errorf("file of %d bytes: %w: at most %d bytes", len(content), duty.ErrTooLarge, s.cfg.MaxFileBytes)
	}
	if len(content) == 0 {
		return nil, invalid("file: empty")
	}
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "" || name == "." || name == "/" || len(name) > 255 || strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
		return nil, invalid("file name %q: expected a plain file name of at most 255 bytes", name)
	}
	typ := ContentType(content)
	if typ == "" {
		return nil, invalid("file %q: its content is not an allowed type (PDF, PNG, JPEG, GIF, WebP, office document), whatever its name says", name)
	}
	sum := sha256.Sum256(content)
	f := &duty.EvidenceFile{ID: newID("F"), Case: c.ID, Name: name, ContentType: typ, Size: int64(len(content)),
		SHA256: hex.EncodeToString(sum[:]), UploadedBy: p.User, UploadedAt: now()}
	if err := s.st.PutEvidenceFile(ctx, f, content); err != nil {
		return nil, err
	}
	if err := s.st.Audit(ctx, duty.AuditEntry{Actor: p.User, Action: "evidence.upload", Collection: "evidence_files",
		IDs: []string{f.ID}, Before: []string{""}, After: []string{f.SHA256[:16]}}); err != nil {
		return nil, err
	}
	return f, nil
}

// EvidenceFile returns the description of a file of a case the principal may see.
func (s *Service) EvidenceFile(ctx context.Context, p duty.Principal, id string) (*duty.EvidenceFile, error) {
	f, err := s.st.GetEvidenceFile(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.Case(ctx, p, f.Case); err != nil {
		return nil, fmt.Errorf("evidence file %q: %w", id, duty.ErrNotFound)
	}
	return f, nil
}

// EvidenceFiles lists the files of a case the principal may see.
func (s *Service) EvidenceFiles(ctx context.Context, p duty.Principal, caseID string) ([]duty.EvidenceFile, error) {
	if _, err := s.Case(ctx, p, caseID); err != nil {
		return nil, err
	}
	return s.st.EvidenceFiles(ctx, caseID)
}
