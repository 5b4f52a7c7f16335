"""A client library for accessing NCP Key Management Service (key versions)"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
