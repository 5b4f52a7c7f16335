"""Contains all the data models used in inputs/outputs"""

from .gateway_error import GatewayError
from .gateway_error_detail import GatewayErrorDetail
from .key_info import KeyInfo
from .key_info_response import KeyInfoResponse
from .key_list_data import KeyListData
from .key_list_response import KeyListResponse
from .key_status import KeyStatus
from .key_summary import KeySummary
from .key_version import KeyVersion
from .key_version_list_data import KeyVersionListData
from .key_version_list_response import KeyVersionListResponse
from .key_version_status import KeyVersionStatus
from .key_version_status_change import KeyVersionStatusChange
from .key_version_status_response import KeyVersionStatusResponse

__all__ = (
    "GatewayError",
    "GatewayErrorDetail",
    "KeyInfo",
    "KeyInfoResponse",
    "KeyListData",
    "KeyListResponse",
    "KeyStatus",
    "KeySummary",
    "KeyVersion",
    "KeyVersionListData",
    "KeyVersionListResponse",
    "KeyVersionStatus",
    "KeyVersionStatusChange",
    "KeyVersionStatusResponse",
)
