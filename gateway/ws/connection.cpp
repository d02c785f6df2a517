#include "ws/connection.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <vector>

#include "protocol/v1_codec.h"

namespace chat::gateway {
namespace {

// Frames per send: batching is what makes fan-out cheap (one send() to a
// loopback socket costs microseconds; copying a frame, nanoseconds).
constexpr std::size_t kBatchFrames = 256;
constexpr std::size_t kBatchBytes = 64 * 1024;
// Bytes one writable callback may send before yielding to other clients.
constexpr std::size_t kBurstBytes = 64 * 1024;
// How long a pending close waits for the answers of stores in flight.
constexpr int kCloseWaitSeconds = 10;
// An oversized v1 frame's first bytes, kept to find its ref: client
// libraries write the ref near the start.
constexpr std::size_t kRefPrefixBytes = 256;

}  // namespace

Connection::Connection(lws* wsi, std::uint64_t id, ClientKind kind, std::string username,
                       const ConnectionLimits& limits, ConnectionHandler& handler, double burst,
                       std::uint64_t nowMs)
    : wsi_(wsi),
      id_(id),
      kind_(kind),
      username_(std::move(username)),
      limits_(limits),
      handler_(handler),
      bucket_(burst, nowMs) {}

bool Connection::takeToken(double rate, double burst, std::uint64_t nowMs) {
  if (bucket_.tryTake(rate, burst, nowMs)) {
    refusedInARow_ = 0;
    return true;
  }
  ++refusedInARow_;
  return false;
}

Connection::~Connection() {
  if (limits_.writes != nullptr) limits_.writes->cancel(*this);
}

Membership* Connection::membershipOf(std::string_view room) const {
  for (Membership* m : memberships_) {
    if (m->room->name == room) return m;
  }
  return nullptr;
}

void Connection::removeMembership(Membership* m) {
  memberships_.erase(std::remove(memberships_.begin(), memberships_.end(), m), memberships_.end());
}

Connection::Extras& Connection::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

const std::string& Connection::peerKey() const {
  static const std::string none;
  return extras_ ? extras_->peerKey : none;
}

RecentRefs& Connection::refs() {
  if (!refs_) refs_ = std::make_unique<RecentRefs>();
  return *refs_;
}

void Connection::enqueue(const FramePtr& frame) {
  // A pending close still lets the answers it waits for out; a slow consumer
  // or a close under way takes nothing more.
  if (slow_ || closeStarted_) return;
  const bool wasEmpty = queue_.empty();
  if (!queue_.pushOrReject(frame, limits_.queue)) {
    // The client does not read: cut it off rather than buffer without bound.
    slow_ = true;
    queue_.clear();
    closePending_ = true;
    extras().closeCode = common::CloseCode::kPolicyViolation;
    extras().closeReason = "slow consumer: outbound queue full";
    handler_.onSlowConsumer(*this);  // closes it
    return;
  }
  if (!wasEmpty) return;  // a write is already on its way
  if (limits_.writes != nullptr && !closePending_)
    limits_.writes->schedule(*this);
  else
    lws_callback_on_writable(wsi_);
}

void Connection::deliver(const FramePtr& frame) {
  // A deleted message is a v1 matter: plain clients never see it.
  if (frame->tombstone() && !isV1()) return;
  enqueue(frame);
}

void Connection::deliverEvent(const FramePtr& frame) {
  if (isV1()) enqueue(frame);
}

void Connection::onJoined(const JoinOutcome& outcome) {
  if (!isV1()) return;
  static const std::vector<std::string> kNobody;
  const std::vector<std::string>& all = outcome.present ? *outcome.present : kNobody;
  const std::size_t listed = std::min(all.size(), std::max<std::size_t>(outcome.listMax, 1));
  std::vector<std::string> present(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(listed));
  std::uint64_t online = std::max<std::uint64_t>(outcome.online, all.size());
  // The joiner is present even when the shared read began before it
  // registered; when the list was whole, it was not counted either.
  if (std::find(all.begin(), all.end(), username_) == all.end() && all.size() >= online) ++online;
  if (std::find(present.begin(), present.end(), username_) == present.end()) {
    if (present.size() >= std::max<std::size_t>(outcome.listMax, 1)) present.pop_back();
    present.push_back(username_);
  }
  send(common::encodeJoined(outcome.room, outcome.epoch, outcome.lastId, outcome.recovered, present,
                            online));
}

void Connection::send(std::string_view json) {
  enqueue(SharedFrame::make(json));
}

void Connection::closeSoon(common::CloseCode code, std::string_view reason) {
  if (closePending_) return;
  closePending_ = true;
  extras().closeCode = code;
  extras().closeReason = std::string(reason.substr(0, 123));
  extras().rxBuffer.clear();
  // A bound on the wait for answers (a Redis that hangs): lws then closes it.
  lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, kCloseWaitSeconds);
  lws_callback_on_writable(wsi_);
}

void Connection::storeFinished() {
  if (storesInFlight_ > 0) --storesInFlight_;
  if (readyToClose()) lws_callback_on_writable(wsi_);
}

void Connection::setCloseReason(common::CloseCode code, std::string_view reason) {
  reason = reason.substr(0, 123);
  lws_close_reason(wsi_, static_cast<lws_close_status>(code),
                   reinterpret_cast<unsigned char*>(const_cast<char*>(reason.data())),
                   reason.size());
}

void Connection::refuseOversized(std::string_view prefix) {
  const std::string ref = common::refInPrefix(prefix).value_or("");
  if (limits_.stats != nullptr) limits_.stats->refuse(common::Refusal::kFrameTooLarge);
  send(common::encodeError(ref, common::V1ErrorCode::kTooLarge, "frame too large"));
}

void Connection::onReceive(const void* data, std::size_t len) {
  // Closing: what the client still sends is read and dropped, so that the
  // close frame reaches it (closing a socket with unread input resets it).
  if (closePending_ || closeStarted_) return;
  if (lws_frame_is_binary(wsi_)) {
    closeSoon(common::CloseCode::kUnsupportedData, "binary frames are not supported");
    return;
  }

  const std::string_view chunk(static_cast<const char*>(data), len);
  // A message ends with the last callback of its FIN frame; lws splits frames
  // larger than its receive buffer over several callbacks.
  const std::size_t remaining = lws_remaining_packet_payload(wsi_);
  const bool final = lws_is_final_fragment(wsi_) != 0 && remaining == 0;
  if (!final && remaining == 0) {
    // permessage-deflate has more of this message to inflate; on a foreign
    // libuv loop lws 4.1 comes back for it only on the next event: wake it.
    lws_cancel_service(lws_get_context(wsi_));
  }
  if (skippingOversized_) {
    // Still inside a v1 message that was too large: drop it to its end,
    // keeping its first bytes for the ref.
    std::string& prefix = extras().rxBuffer;
    if (prefix.size() < kRefPrefixBytes)
      prefix.append(chunk.substr(0, kRefPrefixBytes - prefix.size()));
    if (final) {
      skippingOversized_ = false;
      refuseOversized(prefix);
      prefix.clear();
    }
    return;
  }
  // With permessage-deflate, `len` counts inflated bytes and `remaining` the
  // compressed ones still to come: the limit applies to the inflated size.
  const std::size_t buffered = extras_ ? extras_->rxBuffer.size() : 0;
  if (buffered + len + remaining > limits_.maxFrameBytes) {
    if (!isV1()) {
      if (limits_.stats != nullptr) limits_.stats->refuse(common::Refusal::kFrameTooLarge);
      closeSoon(common::CloseCode::kMessageTooBig, "frame too large");
      return;
    }
    // v1 clients get an error frame and stay connected.
    std::string& prefix = extras().rxBuffer;
    prefix.append(chunk.substr(0, kRefPrefixBytes));
    prefix.resize(std::min(prefix.size(), kRefPrefixBytes));
    if (final) {
      refuseOversized(prefix);
      prefix.clear();
    } else {
      skippingOversized_ = true;
    }
    return;
  }

  if (buffered == 0 && final) {
    // The common case: the whole message in one callback, no copy.
    handler_.onClientText(*this, chunk);
    return;
  }
  std::string& rxBuffer = extras().rxBuffer;
  rxBuffer.append(chunk);
  if (final) {
    std::string message;
    message.swap(rxBuffer);
    handler_.onClientText(*this, message);
  }
}

void Connection::recordWrite(const SharedFrame& frame, std::int64_t nowMs) {
  if (frame.ts() == 0 || limits_.stats == nullptr) return;
  ++limits_.stats->messagesDelivered;
  limits_.stats->deliveryLatency.observe(
      static_cast<double>(std::max<std::int64_t>(0, nowMs - frame.ts())) / 1000.0);
}

bool Connection::writeBatch(std::int64_t nowMs) {
  // One process-wide scratch buffer: writes happen one at a time on the loop.
  static std::vector<unsigned char> scratch(LWS_PRE + kBatchBytes);
  unsigned char* out = scratch.data() + LWS_PRE;
  std::size_t size = 0;
  std::size_t frames = 0;
  while (!queue_.empty() && frames < kBatchFrames) {
    SharedFrame& frame = queue_.front();
    const std::size_t needed = frame.size() + (frames > 0 ? 1 : 0);
    if (size + needed > kBatchBytes) break;
    if (frames > 0) out[size++] = '\n';
    std::memcpy(out + size, frame.payload(), frame.size());
    size += frame.size();
    recordWrite(frame, nowMs);
    ++frames;
    queue_.pop();
  }
  return lws_write(wsi_, out, size, LWS_WRITE_TEXT) >= 0;
}

bool Connection::writeFramedBurst(std::int64_t nowMs) {
  // Plain clients get one WebSocket frame per message; several queued ones
  // are framed here (server frames are unmasked: a 2-10 byte header) and
  // handed to lws as raw bytes, so a burst costs one send() instead of one per
  // message.
  static std::vector<unsigned char> scratch(LWS_PRE + kBurstBytes + 16 * kBatchFrames);
  unsigned char* out = scratch.data() + LWS_PRE;
  std::size_t size = 0;
  std::size_t frames = 0;
  while (!queue_.empty() && frames < kBatchFrames) {
    SharedFrame& frame = queue_.front();
    const std::size_t n = frame.size();
    if (n >= 65536 || size + n + 4 > kBurstBytes) break;
    out[size++] = 0x81;  // FIN, text
    if (n < 126) {
      out[size++] = static_cast<unsigned char>(n);
    } else {
      out[size++] = 126;
      out[size++] = static_cast<unsigned char>(n >> 8);
      out[size++] = static_cast<unsigned char>(n & 0xFF);
    }
    std::memcpy(out + size, frame.payload(), n);
    size += n;
    ++frames;
    recordWrite(frame, nowMs);
    queue_.pop();
  }
  return lws_write(wsi_, out, size, LWS_WRITE_RAW) >= 0;
}

Connection::WriteResult Connection::onWritable() {
  if (peerClosing_ || closeStarted_) return WriteResult::kOk;
  return writeQueued();
}

Connection::WriteResult Connection::flush() {
  // A close in progress is finished by the WRITEABLE path (closeSoon asked for it).
  if (peerClosing_ || closePending_ || queue_.empty()) return WriteResult::kOk;
  if (lws_partial_buffered(wsi_)) {
    // lws still holds bytes the socket did not take; they go first.
    lws_callback_on_writable(wsi_);
    return WriteResult::kOk;
  }
  return writeQueued();
}

Connection::WriteResult Connection::writeQueued() {
  // Several frames per turn while the socket takes them: one send per burst
  // instead of one per frame. The budget keeps one busy client from holding
  // the loop.
  std::size_t written = 0;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);  // a vDSO call: once per wake-up
  const std::int64_t nowMs = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  while (!queue_.empty()) {
    SharedFrame& frame = queue_.front();
    const std::size_t before = queue_.bytes();
    const bool several = queue_.frames() > 1 && frame.size() < kBatchBytes;
    if (several && isV1()) {
      if (!writeBatch(nowMs)) return WriteResult::kFailed;
    } else if (several && limits_.rawFraming) {
      if (!writeFramedBurst(nowMs)) return WriteResult::kFailed;
    } else {
      if (lws_write(wsi_, frame.payload(), frame.size(), LWS_WRITE_TEXT) < 0)
        return WriteResult::kFailed;
      recordWrite(frame, nowMs);
      queue_.pop();
    }
    written += before - queue_.bytes();
    if (queue_.empty()) break;
    // lws keeps what the socket did not take and withholds WRITEABLE until it
    // has sent it; a flag check, where lws_send_pipe_choked() would poll().
    if (written >= kBurstBytes || lws_partial_buffered(wsi_)) {
      lws_callback_on_writable(wsi_);
      resumeReplaysIfDrained();
      return WriteResult::kOk;
    }
  }
  resumeReplaysIfDrained();
  return readyToClose() ? WriteResult::kCloseRequested : WriteResult::kOk;
}

void Connection::resumeReplaysIfDrained() {
  // A quarter of the limits: one more page fits before the replay pauses again.
  if (closePending_ || queue_.frames() > limits_.queue.maxFrames / 4 ||
      queue_.bytes() > limits_.queue.maxBytes / 4)
    return;
  for (const Membership* m : memberships_) {
    if (m->paused) {
      handler_.onRoomForHistory(*this);
      return;
    }
  }
}

void Connection::closeNow() {
  // Once only: a second lws_set_timeout would cancel lws' 5 s close timer
  // and leave a client that never reads open for good.
  if (closeStarted_) return;
  closeStarted_ = true;
  if (closePending_)
    setCloseReason(extras().closeCode, extras().closeReason);
  else
    setCloseReason(common::CloseCode::kNormal, {});
  // lws sends the close frame and waits (at most 5 s) for the client's answer;
  // a slow consumer gets its 1008 once it reads again.
  lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

}  // namespace chat::gateway
