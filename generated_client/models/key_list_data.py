from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.key_summary import KeySummary


T = TypeVar("T", bound="KeyListData")


@_attrs_define
class KeyListData:
    """NCP's pages disagree on `keyList` and `KeyList`, and on whether the
    paging fields sit here or beside `data`; clients should accept both.

        Attributes:
            key_list (list[KeySummary] | Unset):
            current_page_no (int | Unset):
            total_page_no (int | Unset):
            total_count (int | Unset):
    """

    key_list: list[KeySummary] | Unset = UNSET
    current_page_no: int | Unset = UNSET
    total_page_no: int | Unset = UNSET
    total_count: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key_list: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.key_list, Unset):
            key_list = []
            for key_list_item_data in self.key_list:
                key_list_item = key_list_item_data.to_dict()
                key_list.append(key_list_item)

        current_page_no = self.current_page_no

        total_page_no = self.total_page_no

        total_count = self.total_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if key_list is not UNSET:
            field_dict["keyList"] = key_list
        if current_page_no is not UNSET:
            field_dict["currentPageNo"] = current_page_no
        if total_page_no is not UNSET:
            field_dict["totalPageNo"] = total_page_no
        if total_count is not UNSET:
            field_dict["totalCount"] = total_count

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.key_summary import KeySummary

        d = dict(src_dict)
        _key_list = d.pop("keyList", UNSET)
        key_list: list[KeySummary] | Unset = UNSET
        if _key_list is not UNSET:
            key_list = []
            for key_list_item_data in _key_list:
                key_list_item = KeySummary.from_dict(key_list_item_data)

                key_list.append(key_list_item)

        current_page_no = d.pop("currentPageNo", UNSET)

        total_page_no = d.pop("totalPageNo", UNSET)

        total_count = d.pop("totalCount", UNSET)

        key_list_data = cls(
            key_list=key_list,
            current_page_no=current_page_no,
            total_page_no=total_page_no,
            total_count=total_count,
        )

        key_list_data.additional_properties = d
        return key_list_data

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
