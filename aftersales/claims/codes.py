"""The OEM's standard symptom (现象) and cause (原因) codes. A migration loads them on
every install; the OEM administrator keeps them in the Django admin afterwards."""

SYMPTOMS = [
    ("S01", "异响", "Abnormal noise"),
    ("S02", "漏油", "Oil leak"),
    ("S03", "漏水/漏液", "Coolant or fluid leak"),
    ("S04", "无法启动", "Does not start"),
    ("S05", "故障灯亮", "Warning lamp on"),
    ("S06", "抖动", "Vibration"),
    ("S07", "功能失效", "Function does not work"),
    ("S08", "续航下降", "Range loss (EV)"),
    ("S09", "充电故障", "Charging fault (EV)"),
    ("S10", "异味", "Abnormal smell"),
]
CAUSES = [
    ("C01", "材料缺陷", "Material defect"),
    ("C02", "制造/装配不良", "Manufacturing or assembly fault"),
    ("C03", "设计缺陷", "Design defect"),
    ("C04", "密封失效", "Seal failure"),
    ("C05", "电子元件失效", "Electronic component failure"),
    ("C06", "软件故障", "Software fault"),
    ("C07", "供应商零件质量", "Supplier part quality"),
    ("C08", "紧固件松动", "Loose fastener"),
]
