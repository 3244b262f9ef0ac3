from nbswarm import Agent
import time

# 1. Buffer Management
def buffered_callback(min_chunk_size: int = 10):
    """
    Buffer tokens before processing
    """
    buffer = []
    
    def callback(token: str):
        buffer.append(token)
        
        # Process when buffer reaches minimum size
        if len(buffer) >= min_chunk_size:
            chunk = "".join(buffer)
            print(chunk, end="", flush=True)
            buffer.clear()
    
    return callback

agent = Agent(
    model_name="gpt-4o-mini",
    streaming_on=True,
    print_on=False,
)

response = agent.run(
    task="Generate report",
    streaming_callback=buffered_callback(min_chunk_size=20),
)

# 2. Error Handling
def safe_streaming_callback(token: str):
    """
    Callback with error handling
    """
    try:
        # Process token
        print(token, end="", flush=True)
        
        # Additional processing
        # send_to_api(token)
        
    except Exception as e:
        logger.error(f"Streaming error: {e}")
        # Continue streaming despite error

agent = Agent(
    model_name="gpt-4o-mini",
    streaming_on=True,
)

response = agent.run(
    task="Generate content",
    streaming_callback=safe_streaming_callback,
)

# 3. Rate Limiting
class RateLimitedStreamer:
    def __init__(self, min_interval: float = 0.1):
        self.min_interval = min_interval
        self.last_time = 0
    
    def callback(self, token: str):
        # Enforce minimum interval between outputs
        current_time = time.time()
        elapsed = current_time - self.last_time
        
        if elapsed < self.min_interval:
            time.sleep(self.min_interval - elapsed)
        
        print(token, end="", flush=True)
        self.last_time = time.time()

streamer = RateLimitedStreamer(min_interval=0.0005)

agent = Agent(
    model_name="gpt-4o-mini",
    streaming_on=True,
    print_on=False,
)

response = agent.run(
    task="Write story",
    streaming_callback=streamer.callback,
)
