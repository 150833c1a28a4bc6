"""--mask-pii: phone numbers, order numbers and addresses are masked, ordinary text is not."""

from __future__ import annotations

import pytest

from qc.text.pii import Masker, load_pii_settings, mask_pii

CASES = [
    ("我的电话13812345678", "我的电话[电话]"),
    ("手机 138 1234 5678 谢谢", "手机 [电话] 谢谢"),
    ("138-1234-5678", "[电话]"),
    ("+86 139-0000-1111 收", "[电话] 收"),
    ("8613912345678", "[电话]"),
    ("订单号 3719283746152837465 怎么还没发", "订单号 [订单号] 怎么还没发"),
    ("单号SF1234567890123", "单号SF[订单号]"),
    ("我的地址是浙江省杭州市西湖区文三路90号3栋502室", "我的地址是[地址]"),
    ("北京市朝阳区建国路88号", "[地址]"),
    ("收货地址改成上海市浦东新区张江镇科苑路399号", "收货地址改成[地址]"),
    ("寄到广东省深圳市南山区就行", "寄到[地址]就行"),
    ("不好意思哦亲，马上帮您查", "不好意思哦亲，马上帮您查"),
    ("这款有50ml装的么 12345", "这款有50ml装的么 12345"),
    ("价格199元，满300减30", "价格199元，满300减30"),
    ("12345678901", "[订单号]"),  # 11 digits but not a mobile prefix: a long number, masked as an order
    ("货号123456789", "货号123456789"),  # 9 digits: below the order threshold (lexicons/pii.toml)
]


@pytest.mark.parametrize(("text", "masked"), CASES, ids=[c[0][:14] for c in CASES])
def test_mask_pii(text, masked):
    assert mask_pii(text) == masked


def test_masker_is_identity_when_disabled_and_reads_masks_from_settings():
    assert Masker(False)("13812345678") == "13812345678"
    settings = load_pii_settings()
    assert Masker(True)("13812345678") == settings.phone_mask
