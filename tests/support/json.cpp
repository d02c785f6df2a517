#include "json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chat::testing {

struct JsonObject::Impl {
  rapidjson::Document document;

  const rapidjson::Value* find(std::string_view key) const {
    auto it = document.FindMember(
        rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    return it == document.MemberEnd() ? nullptr : &it->value;
  }
};

std::optional<JsonObject> JsonObject::parse(std::string_view text, std::string* error) {
  auto impl = std::make_shared<Impl>();
  impl->document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (impl->document.HasParseError()) {
    if (error != nullptr) {
      *error = std::string("invalid JSON at offset ") +
               std::to_string(impl->document.GetErrorOffset()) + ": " +
               rapidjson::GetParseError_En(impl->document.GetParseError());
    }
    return std::nullopt;
  }
  if (!impl->document.IsObject()) {
    if (error != nullptr) *error = "JSON is not an object";
    return std::nullopt;
  }
  return JsonObject(std::move(impl));
}

bool JsonObject::has(std::string_view key) const {
  return impl_->find(key) != nullptr;
}

std::optional<std::string> JsonObject::string(std::string_view key) const {
  const rapidjson::Value* value = impl_->find(key);
  if (value == nullptr || !value->IsString()) return std::nullopt;
  return std::string(value->GetString(), value->GetStringLength());
}

std::optional<std::int64_t> JsonObject::integer(std::string_view key) const {
  const rapidjson::Value* value = impl_->find(key);
  if (value == nullptr || !value->IsInt64()) return std::nullopt;
  return value->GetInt64();
}

std::optional<bool> JsonObject::boolean(std::string_view key) const {
  const rapidjson::Value* value = impl_->find(key);
  if (value == nullptr || !value->IsBool()) return std::nullopt;
  return value->GetBool();
}

std::vector<std::string> JsonObject::keys() const {
  std::vector<std::string> result;
  for (const auto& member : impl_->document.GetObject()) {
    result.emplace_back(member.name.GetString(), member.name.GetStringLength());
  }
  return result;
}

std::optional<ChatMessage> parseChatMessage(std::string_view frame, std::string* error) {
  std::optional<JsonObject> json = JsonObject::parse(frame, error);
  if (!json) return std::nullopt;
  ChatMessage message;
  message.raw = frame;
  auto fail = [&](const char* field, const char* type) -> std::optional<ChatMessage> {
    if (error != nullptr) {
      *error =
          std::string("field '") + field + "' missing or not " + type + " in " + std::string(frame);
    }
    return std::nullopt;
  };
  auto type = json->string("type");
  auto room = json->string("room");
  auto epoch = json->string("epoch");
  auto id = json->integer("id");
  auto ts = json->integer("ts");
  auto username = json->string("username");
  auto text = json->string("text");
  if (!type) return fail("type", "a string");
  if (!room) return fail("room", "a string");
  if (!epoch) return fail("epoch", "a string");
  if (!id) return fail("id", "an integer");
  if (!ts) return fail("ts", "an integer");
  if (!username) return fail("username", "a string");
  if (!text) return fail("text", "a string");
  message.type = *type;
  message.room = *room;
  message.epoch = *epoch;
  message.id = *id;
  message.ts = *ts;
  message.username = *username;
  message.text = *text;
  return message;
}

std::string jsonString(std::string_view value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string plainMessageJson(std::string_view username, std::string_view text) {
  return "{\"username\":" + jsonString(username) + ",\"text\":" + jsonString(text) + "}";
}

}  // namespace chat::testing
