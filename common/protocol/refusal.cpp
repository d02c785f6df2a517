#include "protocol/refusal.h"

namespace chat::common {

std::string_view refusalLabel(Refusal r) {
  switch (r) {
    case Refusal::kInvalidJson:
      return "invalid_json";
    case Refusal::kNotAnObject:
      return "not_an_object";
    case Refusal::kMissingField:
      return "missing_field";
    case Refusal::kWrongType:
      return "wrong_type";
    case Refusal::kInvalidUtf8:
      return "invalid_utf8";
    case Refusal::kBadUsername:
      return "bad_username";
    case Refusal::kTextTooLong:
      return "text_too_long";
    case Refusal::kTextHasNul:
      return "text_has_nul";
    case Refusal::kEmptyText:
      return "empty_text";
    case Refusal::kFrameTooLarge:
      return "frame_too_large";
    case Refusal::kBinaryFrame:
      return "binary_frame";
    case Refusal::kBadRoom:
      return "bad_room";
    case Refusal::kUnavailable:
      return "unavailable";
    case Refusal::kUnknownType:
      return "unknown_type";
    case Refusal::kBadField:
      return "bad_field";
    case Refusal::kNotJoined:
      return "not_joined";
    case Refusal::kTooManyRooms:
      return "too_many_rooms";
    case Refusal::kRateLimited:
      return "rate_limited";
    case Refusal::kForbiddenRoom:
      return "forbidden_room";
    case Refusal::kBadOrigin:
      return "bad_origin";
    case Refusal::kBadToken:
      return "bad_token";
    case Refusal::kConnectionLimit:
      return "connection_limit";
    case Refusal::kBadUpgrade:
      return "bad_upgrade";
    case Refusal::kBadRequest:
      return "bad_request";
    case Refusal::kCount_:
      break;
  }
  return "unknown";
}

CloseCode plainCloseCode(Refusal r) {
  switch (r) {
    case Refusal::kFrameTooLarge:
      return CloseCode::kMessageTooBig;
    case Refusal::kBinaryFrame:
      return CloseCode::kUnsupportedData;
    case Refusal::kUnavailable:
      return CloseCode::kTryAgainLater;
    case Refusal::kRateLimited:
      return CloseCode::kPolicyViolation;
    case Refusal::kEmptyText:
      return CloseCode::kNormal;  // never sent: empty texts are ignored
    default:
      return CloseCode::kInvalidPayload;
  }
}

}  // namespace chat::common
