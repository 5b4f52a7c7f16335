from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.key_version_list_data import KeyVersionListData


T = TypeVar("T", bound="KeyVersionListResponse")


@_attrs_define
class KeyVersionListResponse:
    """
    Attributes:
        code (str):  Example: SUCCESS.
        data (KeyVersionListData):
    """

    code: str
    data: KeyVersionListData
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.key_version_list_data import KeyVersionListData

        d = dict(src_dict)
        code = d.pop("code")

        data = KeyVersionListData.from_dict(d.pop("data"))

        key_version_list_response = cls(
            code=code,
            data=data,
        )

        key_version_list_response.additional_properties = d
        return key_version_list_response

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
