from graphmesh.v1 import store_service_pb2 as _store_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FieldVector(_message.Message):
    __slots__ = ("field", "values")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    field: str
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, field: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class PutStoreItemRequest(_message.Message):
    __slots__ = ("tenant", "namespace", "key", "value_json", "ttl_minutes", "vectors")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    TTL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    namespace: _containers.RepeatedScalarFieldContainer[str]
    key: str
    value_json: str
    ttl_minutes: float
    vectors: _containers.RepeatedCompositeFieldContainer[FieldVector]
    def __init__(self, tenant: _Optional[str] = ..., namespace: _Optional[_Iterable[str]] = ..., key: _Optional[str] = ..., value_json: _Optional[str] = ..., ttl_minutes: _Optional[float] = ..., vectors: _Optional[_Iterable[_Union[FieldVector, _Mapping]]] = ...) -> None: ...

class PutStoreItemResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteStoreItemRequest(_message.Message):
    __slots__ = ("tenant", "namespace", "key")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    namespace: _containers.RepeatedScalarFieldContainer[str]
    key: str
    def __init__(self, tenant: _Optional[str] = ..., namespace: _Optional[_Iterable[str]] = ..., key: _Optional[str] = ...) -> None: ...

class DeleteStoreItemResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStoreItemRequest(_message.Message):
    __slots__ = ("tenant", "namespace", "key", "refresh_ttl")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TTL_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    namespace: _containers.RepeatedScalarFieldContainer[str]
    key: str
    refresh_ttl: bool
    def __init__(self, tenant: _Optional[str] = ..., namespace: _Optional[_Iterable[str]] = ..., key: _Optional[str] = ..., refresh_ttl: _Optional[bool] = ...) -> None: ...

class GetStoreItemResponse(_message.Message):
    __slots__ = ("item", "found")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    item: _store_service_pb2.StoreItem
    found: bool
    def __init__(self, item: _Optional[_Union[_store_service_pb2.StoreItem, _Mapping]] = ..., found: _Optional[bool] = ...) -> None: ...

class SearchStoreItemsRequest(_message.Message):
    __slots__ = ("tenant", "namespace_prefix", "filter_json", "limit", "offset", "query_vector", "ranked", "refresh_ttl")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    QUERY_VECTOR_FIELD_NUMBER: _ClassVar[int]
    RANKED_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TTL_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    namespace_prefix: _containers.RepeatedScalarFieldContainer[str]
    filter_json: str
    limit: int
    offset: int
    query_vector: _containers.RepeatedScalarFieldContainer[float]
    ranked: bool
    refresh_ttl: bool
    def __init__(self, tenant: _Optional[str] = ..., namespace_prefix: _Optional[_Iterable[str]] = ..., filter_json: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., query_vector: _Optional[_Iterable[float]] = ..., ranked: _Optional[bool] = ..., refresh_ttl: _Optional[bool] = ...) -> None: ...

class SearchStoreItemsResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_store_service_pb2.StoreItem]
    def __init__(self, items: _Optional[_Iterable[_Union[_store_service_pb2.StoreItem, _Mapping]]] = ...) -> None: ...

class ListStoreNamespacesRequest(_message.Message):
    __slots__ = ("tenant", "prefix", "suffix", "max_depth", "limit", "offset")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    prefix: _containers.RepeatedScalarFieldContainer[str]
    suffix: _containers.RepeatedScalarFieldContainer[str]
    max_depth: int
    limit: int
    offset: int
    def __init__(self, tenant: _Optional[str] = ..., prefix: _Optional[_Iterable[str]] = ..., suffix: _Optional[_Iterable[str]] = ..., max_depth: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListStoreNamespacesResponse(_message.Message):
    __slots__ = ("namespaces",)
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[_store_service_pb2.StoreNamespace]
    def __init__(self, namespaces: _Optional[_Iterable[_Union[_store_service_pb2.StoreNamespace, _Mapping]]] = ...) -> None: ...
