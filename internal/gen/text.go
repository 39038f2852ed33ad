package gen

// The words of a generated organisation: its names, titles and the free text of its records,
// drawn from the seed (a provincial People's Congress organ, 省人大机关) and from the ordinary
// language of such organs.

// provinces name the first organs; later organs are numbered.
var provinces = []struct{ full, short string }{
	{"浙江省", "浙江"}, {"江苏省", "江苏"}, {"安徽省", "安徽"}, {"福建省", "福建"}, {"江西省", "江西"},
	{"山东省", "山东"}, {"河南省", "河南"}, {"湖北省", "湖北"}, {"湖南省", "湖南"}, {"广东省", "广东"},
	{"广西壮族自治区", "广西"}, {"海南省", "海南"}, {"四川省", "四川"}, {"贵州省", "贵州"}, {"云南省", "云南"},
	{"西藏自治区", "西藏"}, {"陕西省", "陕西"}, {"甘肃省", "甘肃"}, {"青海省", "青海"}, {"宁夏回族自治区", "宁夏"},
	{"新疆维吾尔自治区", "新疆"}, {"北京市", "北京"}, {"天津市", "天津"}, {"河北省", "河北"}, {"山西省", "山西"},
	{"内蒙古自治区", "内蒙古"}, {"辽宁省", "辽宁"}, {"吉林省", "吉林"}, {"黑龙江省", "黑龙江"}, {"上海市", "上海"},
	{"重庆市", "重庆"},
}

// divisionSpec is one 处室 and whether it is a large one (two deputies, one more staff member).
type divisionSpec struct {
	name  string
	large bool
}

// The eight special committees (专工委) of the seed and their divisions.
var specialCommittees = []struct {
	name      string
	divisions []divisionSpec
}{
	{"法制工作委员会", []divisionSpec{{"法制工作委员会办公室", false}, {"立法一处", true}, {"立法二处", true}, {"备案审查处", false}}},
	{"财政经济委员会", []divisionSpec{{"财政经济委员会办公室", false}, {"预算处", true}, {"经济处", false}}},
	{"教育科学文化卫生委员会", []divisionSpec{{"教育科学文化卫生委员会办公室", false}, {"教科文卫处", false}}},
	{"农业与农村委员会", []divisionSpec{{"农业与农村委员会办公室", false}, {"农村处", false}}},
	{"环境与资源保护委员会", []divisionSpec{{"环境与资源保护委员会办公室", false}, {"环境资源处", false}}},
	{"民族宗教华侨外事委员会", []divisionSpec{{"民族宗教华侨外事委员会办公室", false}, {"民族宗教侨务处", false}}},
	{"内务司法委员会", []divisionSpec{{"内务司法委员会办公室", false}, {"内务司法处", false}}},
	{"监察和司法委员会", []divisionSpec{{"监察和司法委员会办公室", false}, {"监察司法处", false}}},
}

var (
	partyCommitteeDivisions      = []divisionSpec{{"机关党委办公室", false}, {"组织宣传处", false}}
	disciplineCommitteeDivisions = []divisionSpec{{"纪检监察室", false}}
	officeDivisions              = []divisionSpec{
		{"秘书处", true}, {"综合处", true}, {"联络处", true}, {"信访处", true}, {"新闻处", false},
		{"外事处", false}, {"人事处", true}, {"计划财务处", false}, {"机关事务管理处", false}, {"安全保卫处", false},
	}
	researchDivisions = []divisionSpec{{"综合研究处", false}, {"法制研究处", false}, {"经济研究处", false}}
)

// Chinese personal names: a common surname and one or two given-name characters.
var (
	surnames   = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌宇浩凯晨鹏飞云峰志国海燕林波宁洁琳慧俊健婷雪晓东颖民欣怡嘉佳子涵博宏振毅诚亮晶倩露璐荣鑫昊蕾睿骏瑶")
)

// Section- and staff-rank titles (公务员职级).
var (
	sectionTitles = []string{"一级主任科员", "二级主任科员", "三级主任科员", "四级主任科员"}
	staffTitles   = []string{"一级科员", "二级科员"}
)

// Record-book tasks (任务清单) and the ordinary entries of a duty record book (全程记实本).
var (
	taskTitles = []string{
		"学习贯彻党风廉政建设责任制规定",
		"落实“一岗双责”，检查分管处室党风廉政建设情况",
		"签订廉政责任书",
		"开展廉政谈话",
		"组织党纪党规学习讨论",
		"开展廉政风险防控“回头看”",
		"参加党风廉政建设专题工作会议",
		"报告个人有关事项",
		"督促整改工作建议书所列问题",
		"参加党风廉政宣传教育月活动",
	}
	entryContents = []string{
		"主持召开处室会议，传达党风廉政建设专题工作会议精神",
		"与处室干部开展谈心谈话",
		"检查处室公务接待、公车使用情况",
		"组织学习《中国共产党纪律处分条例》",
		"参加支部组织生活会并作发言",
		"审核处室经费支出，未发现违规情况",
		"督促处室干部按时报告个人重大事项",
		"开展节前廉洁提醒",
		"参加廉政书画摄影展观展活动",
		"听取分管处室党风廉政建设工作汇报",
	}
	inspectionFindings = []string{
		"记实内容完整，任务按时落实",
		"部分记实内容较简略，已当面反馈",
		"任务清单落实情况良好",
	}
)

// Work-suggestion items (工作建议书) and the evidence of their close-out (销号).
var (
	suggestionTexts = []string{
		"修订《机关工作制度汇编》，规范机关权力运行",
		"完善车改后的公车管理审批制度",
		"对个别干部工作作风、劳动纪律问题开展廉政谈话",
		"更新干部人事档案基础信息",
		"建立廉政风险防控“回头看”工作台账",
		"规范会议费、培训费审批程序",
		"加强机关食堂和公务接待费用管理",
		"健全支部纪检委员工作例会制度",
		"完善政府采购内部控制流程",
		"落实节假日廉洁提醒常态化",
	}
	suggestionEvidence = []string{
		"已印发相关制度文件并报派驻纪检监察组备案",
		"整改情况报告已报派驻纪检监察组",
		"谈话记录已归档",
		"工作台账已建立并投入使用",
		"机关党组会议纪要已印发",
	}
)

// Responsibility-list items (两个责任清单) for each level.
var listItems = map[string][]string{
	"party_group": {
		"对本机关全面从严治党负主体责任",
		"每年召开党风廉政建设专题工作会议，研究部署年度任务",
		"分3个层面签订廉政责任书",
		"支持派驻纪检监察组履行监督责任",
		"落实“三重一大”集体决策制度",
	},
	"party_group_secretary": {
		"履行全面从严治党第一责任人职责",
		"带头签订并督促落实廉政责任书",
		"定期听取机关党委、机关纪委工作汇报",
		"对党组成员、厅级干部开展廉政谈话",
	},
	"leaders": {
		"落实“一岗双责”，抓好分管范围党风廉政建设",
		"与分管处室（单位）主要负责人签订廉政责任书",
		"填写《履行党风廉政建设责任制全程记实本》",
		"定期检查分管处室廉政风险防控情况",
	},
	"party_committee": {
		"组织开展党风廉政宣传教育月活动",
		"推进党支部标准化建设",
		"督促制定机关党委、党支部工作规则",
		"协助机关党组落实主体责任",
	},
	"discipline_committee": {
		"定期召开与支部纪检委员的工作联席会议",
		"开展廉政风险防控“回头看”",
		"受理信访举报并开展信访核实谈话",
		"监督检查《全程记实本》填写情况",
	},
	"department_heads": {
		"落实本处室（单位）党风廉政建设主体责任",
		"与处级干部签订廉政责任书",
		"及时填写《全程记实本》，做到照单履职、全程留痕",
		"排查本处室（单位）廉政风险点",
	},
	"special_committee": {
		"明确本委员会党风廉政建设职责",
		"在立法、监督工作中落实廉洁要求",
		"配合派驻纪检监察组开展融入式监督",
		"加强对委员会工作人员的教育管理",
	},
}

// Personal major matters (个人重大事项).
var majorMatterKinds = []string{
	"本人婚姻变化",
	"子女婚嫁",
	"因私出国（境）",
	"本人、配偶、共同生活的子女房产变动",
	"配偶、子女从业情况变化",
	"操办婚丧喜庆事宜",
}

// Meetings other than annual_conduct and joint: their kind is free text.
const (
	meetingPartyGroup     = "党组会议"
	meetingPartyCommittee = "机关党委会议"
	meetingEducationMonth = "党风廉政宣传教育月动员会"
	meetingLookBack       = "廉政风险防控“回头看”推进会"
	meetingBranchLife     = "支部组织生活会"
)
