#include "ws/connection.h"

#include <algorithm>

namespace chat::gateway {

Connection::Connection(lws* wsi, std::uint64_t id, ClientKind kind, const ConnectionLimits& limits,
                       ConnectionHandler& handler)
    : wsi_(wsi), id_(id), kind_(kind), limits_(limits), handler_(handler) {}

Connection::~Connection() = default;

void Connection::deliver(const FramePtr& frame) {
  if (slow_ || pendingClose_) return;
  const bool wasEmpty = queue_.empty();
  if (!queue_.pushOrReject(frame, limits_.queue)) {
    // The client does not read: cut it off rather than buffer without bound.
    slow_ = true;
    queue_.clear();
    handler_.onSlowConsumer(*this);
    closeSoon(common::CloseCode::kPolicyViolation, "slow consumer: outbound queue full");
    return;
  }
  if (wasEmpty) lws_callback_on_writable(wsi_);
}

void Connection::closeSoon(common::CloseCode code, std::string_view reason) {
  if (pendingClose_) return;
  pendingClose_ = PendingClose{code, std::string(reason.substr(0, 123))};
  lws_callback_on_writable(wsi_);
}

void Connection::setCloseReason(common::CloseCode code, std::string_view reason) {
  reason = reason.substr(0, 123);
  lws_close_reason(wsi_, static_cast<lws_close_status>(code),
                   reinterpret_cast<unsigned char*>(const_cast<char*>(reason.data())),
                   reason.size());
}

bool Connection::refuse(common::CloseCode code, std::string_view reason) {
  rxBuffer_.clear();
  setCloseReason(code, reason);
  return false;
}

bool Connection::onReceive(const void* data, std::size_t len) {
  if (pendingClose_) return true;  // closing: ignore further input
  if (lws_frame_is_binary(wsi_))
    return refuse(common::CloseCode::kUnsupportedData, "binary frames are not supported");

  const std::string_view chunk(static_cast<const char*>(data), len);
  // A message ends with the last callback of its FIN frame; lws splits frames
  // larger than its receive buffer over several callbacks.
  const std::size_t remaining = lws_remaining_packet_payload(wsi_);
  const bool final = lws_is_final_fragment(wsi_) != 0 && remaining == 0;
  if (rxBuffer_.size() + len + remaining > limits_.maxFrameBytes)
    return refuse(common::CloseCode::kMessageTooBig, "frame too large");

  if (rxBuffer_.empty() && final) {
    // The common case: the whole message in one callback, no copy.
    return handler_.onClientText(*this, chunk);
  }
  rxBuffer_.append(chunk);
  if (final) {
    std::string message;
    message.swap(rxBuffer_);
    return handler_.onClientText(*this, message);
  }
  return true;
}

Connection::WriteResult Connection::onWritable() {
  // Several frames per wake-up while the socket takes them: one poll cycle per
  // burst instead of one per frame. The budget keeps one busy client from
  // holding the loop.
  constexpr std::size_t kBurstBytes = 64 * 1024;
  std::size_t written = 0;
  while (!queue_.empty()) {
    SharedFrame& frame = queue_.front();
    if (lws_write(wsi_, frame.payload(), frame.size(), LWS_WRITE_TEXT) < 0)
      return WriteResult::kFailed;
    written += frame.size();
    queue_.pop();
    if (queue_.empty()) break;
    if (written >= kBurstBytes || lws_send_pipe_choked(wsi_)) {
      lws_callback_on_writable(wsi_);
      return WriteResult::kOk;
    }
  }
  return pendingClose_ ? WriteResult::kCloseRequested : WriteResult::kOk;
}

void Connection::closeNow() {
  const auto code = pendingClose_ ? pendingClose_->code : common::CloseCode::kNormal;
  const std::string reason = pendingClose_ ? pendingClose_->reason : std::string();
  setCloseReason(code, reason);
  lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

}  // namespace chat::gateway
