from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.key_version import KeyVersion


T = TypeVar("T", bound="KeyVersionListData")


@_attrs_define
class KeyVersionListData:
    """
    Attributes:
        key_tag (str):
        version_list (list[KeyVersion]):
        current_version (int | Unset):
    """

    key_tag: str
    version_list: list[KeyVersion]
    current_version: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key_tag = self.key_tag

        version_list = []
        for version_list_item_data in self.version_list:
            version_list_item = version_list_item_data.to_dict()
            version_list.append(version_list_item)

        current_version = self.current_version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "keyTag": key_tag,
                "versionList": version_list,
            }
        )
        if current_version is not UNSET:
            field_dict["currentVersion"] = current_version

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.key_version import KeyVersion

        d = dict(src_dict)
        key_tag = d.pop("keyTag")

        version_list = []
        _version_list = d.pop("versionList")
        for version_list_item_data in _version_list:
            version_list_item = KeyVersion.from_dict(version_list_item_data)

            version_list.append(version_list_item)

        current_version = d.pop("currentVersion", UNSET)

        key_version_list_data = cls(
            key_tag=key_tag,
            version_list=version_list,
            current_version=current_version,
        )

        key_version_list_data.additional_properties = d
        return key_version_list_data

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
