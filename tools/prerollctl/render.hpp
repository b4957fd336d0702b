// Human-readable renderings of prerolld's control replies.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace preroll::ctl {

using nlohmann::json;

std::string num(const json& v);
std::string str(const json& v);

// Sum of a stats or client object's "events_lost" by cause.
std::uint64_t lost_events(const json& j);

void print_stats(const json& reply);
void print_policy(const json& policy);
void print_clients(const json& reply);

}  // namespace preroll::ctl
