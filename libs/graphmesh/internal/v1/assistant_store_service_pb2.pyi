from graphmesh.v1 import assistant_service_pb2 as _assistant_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateAssistantRequest(_message.Message):
    __slots__ = ("tenant", "assistant", "if_exists_return")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    IF_EXISTS_RETURN_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    assistant: _assistant_service_pb2.Assistant
    if_exists_return: bool
    def __init__(self, tenant: _Optional[str] = ..., assistant: _Optional[_Union[_assistant_service_pb2.Assistant, _Mapping]] = ..., if_exists_return: _Optional[bool] = ...) -> None: ...

class CreateAssistantResponse(_message.Message):
    __slots__ = ("assistant", "created")
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    assistant: _assistant_service_pb2.Assistant
    created: bool
    def __init__(self, assistant: _Optional[_Union[_assistant_service_pb2.Assistant, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class EnsureDefaultAssistantsRequest(_message.Message):
    __slots__ = ("assistants",)
    ASSISTANTS_FIELD_NUMBER: _ClassVar[int]
    assistants: _containers.RepeatedCompositeFieldContainer[_assistant_service_pb2.Assistant]
    def __init__(self, assistants: _Optional[_Iterable[_Union[_assistant_service_pb2.Assistant, _Mapping]]] = ...) -> None: ...

class EnsureDefaultAssistantsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAssistantRequest(_message.Message):
    __slots__ = ("tenant", "assistant_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    assistant_id: str
    def __init__(self, tenant: _Optional[str] = ..., assistant_id: _Optional[str] = ...) -> None: ...

class GetAssistantResponse(_message.Message):
    __slots__ = ("assistant",)
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    assistant: _assistant_service_pb2.Assistant
    def __init__(self, assistant: _Optional[_Union[_assistant_service_pb2.Assistant, _Mapping]] = ...) -> None: ...

class UpdateAssistantRequest(_message.Message):
    __slots__ = ("tenant", "update")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    update: _assistant_service_pb2.UpdateAssistantRequest
    def __init__(self, tenant: _Optional[str] = ..., update: _Optional[_Union[_assistant_service_pb2.UpdateAssistantRequest, _Mapping]] = ...) -> None: ...

class UpdateAssistantResponse(_message.Message):
    __slots__ = ("assistant",)
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    assistant: _assistant_service_pb2.Assistant
    def __init__(self, assistant: _Optional[_Union[_assistant_service_pb2.Assistant, _Mapping]] = ...) -> None: ...

class DeleteAssistantRequest(_message.Message):
    __slots__ = ("tenant", "assistant_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    assistant_id: str
    def __init__(self, tenant: _Optional[str] = ..., assistant_id: _Optional[str] = ...) -> None: ...

class DeleteAssistantResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchAssistantsRequest(_message.Message):
    __slots__ = ("tenant", "graph_id", "metadata_json", "name", "limit", "before_created_at_us", "before_assistant_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_CREATED_AT_US_FIELD_NUMBER: _ClassVar[int]
    BEFORE_ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    graph_id: str
    metadata_json: str
    name: str
    limit: int
    before_created_at_us: int
    before_assistant_id: str
    def __init__(self, tenant: _Optional[str] = ..., graph_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., name: _Optional[str] = ..., limit: _Optional[int] = ..., before_created_at_us: _Optional[int] = ..., before_assistant_id: _Optional[str] = ...) -> None: ...

class SearchAssistantsResponse(_message.Message):
    __slots__ = ("assistants",)
    ASSISTANTS_FIELD_NUMBER: _ClassVar[int]
    assistants: _containers.RepeatedCompositeFieldContainer[_assistant_service_pb2.Assistant]
    def __init__(self, assistants: _Optional[_Iterable[_Union[_assistant_service_pb2.Assistant, _Mapping]]] = ...) -> None: ...

class CountAssistantsRequest(_message.Message):
    __slots__ = ("tenant", "graph_id", "metadata_json", "name")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    graph_id: str
    metadata_json: str
    name: str
    def __init__(self, tenant: _Optional[str] = ..., graph_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CountAssistantsResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class ListAssistantVersionsRequest(_message.Message):
    __slots__ = ("tenant", "assistant_id", "metadata_json", "limit", "before_version")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_VERSION_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    assistant_id: str
    metadata_json: str
    limit: int
    before_version: int
    def __init__(self, tenant: _Optional[str] = ..., assistant_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., limit: _Optional[int] = ..., before_version: _Optional[int] = ...) -> None: ...

class ListAssistantVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_assistant_service_pb2.Assistant]
    def __init__(self, versions: _Optional[_Iterable[_Union[_assistant_service_pb2.Assistant, _Mapping]]] = ...) -> None: ...

class SetLatestAssistantVersionRequest(_message.Message):
    __slots__ = ("tenant", "assistant_id", "version")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    assistant_id: str
    version: int
    def __init__(self, tenant: _Optional[str] = ..., assistant_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SetLatestAssistantVersionResponse(_message.Message):
    __slots__ = ("assistant",)
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    assistant: _assistant_service_pb2.Assistant
    def __init__(self, assistant: _Optional[_Union[_assistant_service_pb2.Assistant, _Mapping]] = ...) -> None: ...
