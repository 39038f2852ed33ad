package sheet

import "fmt"

// words are the workbook's own texts (the explanation sheet, the problems of an import) in
// Chinese and English; titles of columns and enumerated values come from duty.Names.
var words = map[string][2]string{
	"nameSuffix":    {"（名称）", " (name)"},
	"guide":         {"填写说明", "Guide"},
	"lists":         {"选项", "Choices"},
	"problems":      {"问题清单", "Problems"},
	"guide.intro":   {"每个工作表一种记录，第一行是列标题，从第二行起每行一条记录。红色的列标题必须填写，其余可以留空。人员和部门可以填写编号，也可以填写名称（名称须唯一）。日期填写为日期单元格或「2025-03-31」形式的文字。子表（如任务清单、履责记录）每行一条，第一列填写所属记录的编号。导入时整批校验，任何一行有误则全部不写入。", "One sheet per kind of record; row 1 holds the column titles, each further row one record. Columns titled in red are required; the others may be left empty. People and departments may be given by id or by name (a name must be unique). Dates are date cells or text such as 2025-03-31. Nested sheets (tasks, entries…) hold one item per row, the first column naming the parent record's id. An import is checked as one batch: if any row is wrong, nothing is written."},
	"guide.sheet":   {"工作表", "Sheet"},
	"guide.column":  {"列标题", "Column title"},
	"guide.field":   {"字段名", "Field name"},
	"guide.need":    {"必填", "Required"},
	"guide.type":    {"填写内容", "What to enter"},
	"guide.help":    {"说明", "Explanation"},
	"yes":           {"是", "yes"},
	"no":            {"否", "no"},
	"type.text":     {"文字", "text"},
	"type.id":       {"编号：以字母、数字或汉字开头，可含连字符、下划线、点和冒号，不含空格和斜杠，在本类记录中唯一", "an id: a letter or digit first, then letters, digits and - _ . : (no space, no slash), unique among these records"},
	"type.date":     {"日期", "a date"},
	"type.bool":     {"是或否", "yes or no"},
	"type.int":      {"整数（%d至%d）", "an integer (%d to %d)"},
	"type.enum":     {"从下拉列表中选择：%s", "one of: %s"},
	"type.enumfree": {"可从下拉列表中选择（%s），也可填写其他类型", "one of %s, or another kind"},
	"type.ref":      {"%s的编号或名称", "the id or name of a record of %s"},
	"type.refs":     {"%s的编号或名称，多个用顿号分隔", "ids or names of %s, separated by commas"},
	"type.enums":    {"从以下选择一个或多个，用顿号分隔：%s", "one or more of, separated by commas: %s"},
	"type.lines":    {"多项时每行一项（单元格内换行）", "one item per line within the cell"},
	"type.parent":   {"所属%s的编号（须在本工作簿的「%s」工作表中）", "the id of the parent record of %s (in the sheet %s)"},
	"sep":           {"、", ", "},

	// Problems of an import, by sheet, row and column.
	"at.sheet":       {"工作表「%s」", "sheet %q"},
	"at.row":         {"第 %d 行", "row %d"},
	"at.column":      {"%s 列", "column %s"},
	"at.titled":      {"%s 列（%s）", "column %s (%s)"},
	"at.sep":         {"，", ", "},
	"at.end":         {"：", ": "},
	"p.notxlsx":      {"文件不是 Excel 工作簿（xlsx），也不是 CSV 文件%.0s", "the file is neither an Excel workbook (xlsx) nor a CSV file: %s"},
	"p.csvnested":    {"「%s」含有子表，不能用 CSV 导入，请使用 Excel 工作簿", "%s has nested sheets and cannot be imported from CSV; use an Excel workbook"},
	"p.csvcoll":      {"导入 CSV 文件时须指定记录类型", "a CSV import needs the collection"},
	"p.badcsv":       {"CSV 文件无法读取%.0s", "the CSV file cannot be read: %s"},
	"p.notutf8":      {"CSV 文件不是 UTF-8 编码（多半是 GBK）：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」后再导入", "the CSV file is not UTF-8 (GBK, most likely): save it from Excel as \"CSV UTF-8 (Comma delimited)\" and import it again"},
	"p.unknownsheet": {"不认识的工作表「%s」，应为以下之一：%s", "unknown sheet %q; expected one of: %s"},
	"p.othercoll":    {"工作表「%s」不属于所选的记录类型「%s」", "sheet %q is not of the chosen collection %s"},
	"p.dupsheet":     {"工作表「%s」与「%s」是同一种记录", "sheets %q and %q hold the same records"},
	"p.nosheet":      {"工作簿中没有可导入的工作表", "the workbook has no sheet to import"},
	"p.needsheet":    {"缺少工作表「%s」（整条记录一并写入，子表缺失会清空其中各项）", "the sheet %q is missing (records are written whole: a missing nested sheet would empty them)"},
	"p.noheader":     {"第一行应为列标题", "row 1 must hold the column titles"},
	"p.unknowncol":   {"不认识的列标题「%s」", "unknown column title %q"},
	"p.dupcol":       {"列标题「%s」重复", "the column %q appears twice"},
	"p.missingcol":   {"缺少必填列「%s」", "the required column %q is missing"},
	"p.required":     {"此项必填", "is required"},
	"p.date":         {"应为日期（日期单元格或「2025-03-31」形式），实为「%s」", "must be a date (a date cell or text like 2025-03-31), got %q"},
	"p.daterange":    {"日期「%s」超出可接受的范围（1900-01-01至2199-12-31）", "the date %s is out of range (1900-01-01 to 2199-12-31)"},
	"p.bool":         {"应填「是」或「否」，实为「%s」", "must be yes or no, got %q"},
	"p.int":          {"应为整数，实为「%s」", "must be an integer, got %q"},
	"p.enum":         {"「%s」不是可选的值，应为以下之一：%s", "%q is not one of the allowed values: %s"},
	"p.noref":        {"没有编号或名称为「%s」的%s", "no record of %[2]s has the id or name %[1]q"},
	"p.ambiguous":    {"名称「%s」对应多条%s记录（编号%s），请改填编号", "the name %q matches several records of %s (ids %s); give the id instead"},
	"p.noparent":     {"「%s」工作表中没有编号为「%s」的记录", "the sheet %s has no record with the id %q"},
	"p.toomany":      {"行数超过上限（%d 行）", "more rows than the limit (%d)"},
	"p.store":        {"未通过校验", "refused"},
	"p.cancelled":    {"导入已取消，未写入任何记录", "the import was cancelled; nothing was written"},
	"p.more":         {"另有 %d 个问题未列出", "%d more problems are not listed"},
}

// word returns the text of key in lang ("en" or Chinese), formatted with args.
func word(key, lang string, args ...any) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	s := w[0]
	if lang == "en" {
		s = w[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// both returns the text of key in Chinese and English.
func both(key string, args ...any) (zh, en string) {
	return word(key, "zh", args...), word(key, "en", args...)
}
