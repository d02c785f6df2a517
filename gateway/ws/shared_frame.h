#pragma once
// One serialized server frame, shared by every connection it is sent to.
//
// The payload sits behind LWS_PRE bytes of headroom that lws_write() uses as
// scratch for the WebSocket header; the payload bytes themselves are never
// changed, so one buffer serves any number of recipients one write at a time
// (loop thread only). Held by shared_ptr in each connection's queue.

#include <libwebsockets.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace chat::gateway {

class SharedFrame {
 public:
  // `ts`: a message's store time (ms since the epoch), for the delivery
  // latency metric; 0 for frames that are not chat messages. `tombstone`: a
  // deleted message's place in history, which plain clients never get.
  static std::shared_ptr<SharedFrame> make(std::string_view payload, std::int64_t ts = 0,
                                           bool tombstone = false) {
    auto frame = std::shared_ptr<SharedFrame>(new SharedFrame(payload));
    frame->ts_ = ts;
    frame->tombstone_ = tombstone;
    return frame;
  }
  std::int64_t ts() const { return ts_; }
  bool tombstone() const { return tombstone_; }

  // Writable pointer to the payload, with LWS_PRE bytes before it, for lws_write().
  unsigned char* payload() { return storage_.get() + LWS_PRE; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(storage_.get() + LWS_PRE), size_};
  }
  std::size_t size() const { return size_; }

 private:
  explicit SharedFrame(std::string_view payload)
      : storage_(new unsigned char[LWS_PRE + payload.size()]), size_(payload.size()) {
    std::copy(payload.begin(), payload.end(), storage_.get() + LWS_PRE);
  }

  std::unique_ptr<unsigned char[]> storage_;
  std::size_t size_;
  std::int64_t ts_ = 0;
  bool tombstone_ = false;
};

using FramePtr = std::shared_ptr<SharedFrame>;

}  // namespace chat::gateway
