package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strings"
)

// rowCounts counts the row elements of each worksheet of a workbook, by sheet name, from the
// package itself: a progress bar needs the total before the rows are read, and the dimension a
// worksheet declares is often missing or wrong (excelize writes "A1"). It reads each sheet's
// XML once, as bytes; on any trouble it returns what it has.
func rowCounts(data []byte) map[string]int {
	out := map[string]int{}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return out
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if readXML(files["xl/workbook.xml"], &wb) != nil || readXML(files["xl/_rels/workbook.xml.rels"], &rels) != nil {
		return out
	}
	target := map[string]string{}
	for _, r := range rels.Rels {
		t := strings.TrimPrefix(r.Target, "/")
		if !strings.HasPrefix(t, "xl/") {
			t = path.Join("xl", t)
		}
		target[r.ID] = t
	}
	for _, s := range wb.Sheets {
		f := files[target[s.RID]]
		if f == nil {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			continue
		}
		n, _ := countRows(rc)
		rc.Close()
		out[s.Name] = n
	}
	return out
}

func readXML(f *zip.File, v any) error {
	if f == nil {
		return io.ErrUnexpectedEOF
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v)
}

// countRows counts "<row " and "<row>" in an XML stream.
func countRows(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n, carry := 0, 0
	for {
		k, err := r.Read(buf[carry:])
		chunk := buf[:carry+k]
		n += bytes.Count(chunk, []byte("<row ")) + bytes.Count(chunk, []byte("<row>"))
		// Keep the last 4 bytes: a tag split across two reads is counted in the next.
		carry = min(4, len(chunk))
		copy(buf, chunk[len(chunk)-carry:])
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
