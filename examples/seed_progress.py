from nbswarm import Agent
from rich.progress import Progress, TextColumn, BarColumn
from rich.console import Console

console = Console()

def progress_streaming(task_description: str) -> str:
    """
    Stream with progress bar
    """
    tokens = []
    
    with Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
    ) as progress:
        
        task = progress.add_task(task_description, total=100)
        
        def callback(token: str):
            tokens.append(token)
            # Update progress (estimate)
            progress.update(task, advance=1)
        
        agent = Agent(
            model_name="gpt-4o-mini",
            streaming_on=True,
            print_on=False,
        )
        
        response = agent.run(
            task=task_description,
            streaming_callback=callback,
        )
    
    return response

result = progress_streaming("Generate comprehensive report")
